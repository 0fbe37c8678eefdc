"""Who gets into the console and what they may do: password hashes, session expiry, CSRF, roles. The rules
(console/auth.py) directly, then the same over HTTP against the running console."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
import requests

from common import config
from common.state import operators
from console import auth
from tests.conftest import ROOT
from tests.console.conftest import PASSWORD, csrf_of, signed_in


def test_a_password_is_kept_as_a_salted_scrypt_hash():
    auth.add_user("ada", "admin", PASSWORD)
    stored = operators.user("ada").password_hash
    assert stored.startswith("scrypt$16384$8$1$") and PASSWORD not in stored
    assert auth.password_matches(PASSWORD, stored)
    assert not auth.password_matches(PASSWORD + "!", stored)
    assert auth.hash_password(PASSWORD) != auth.hash_password(PASSWORD)  # a new salt each time
    assert not auth.password_matches(PASSWORD, "md5$whatever")


def test_short_passwords_and_unknown_roles_are_refused():
    with pytest.raises(ValueError):
        auth.add_user("ada", "admin", "short")
    with pytest.raises(ValueError):
        auth.add_user("ada", "superuser", PASSWORD)


def test_a_session_ends_when_idle_and_when_too_old(clock):
    auth.add_user("ada", "admin", PASSWORD)
    token, _ = auth.log_in("ada", PASSWORD)
    assert auth.visitor(token).name == "ada"
    clock.shift(timedelta(minutes=config.CONSOLE_SESSION_IDLE_MINUTES - 1))
    assert auth.visitor(token) is not None  # a request keeps it alive
    clock.shift(timedelta(minutes=config.CONSOLE_SESSION_IDLE_MINUTES))
    assert auth.visitor(token) is None
    token, _ = auth.log_in("ada", PASSWORD)
    for _ in range(config.CONSOLE_SESSION_MAX_HOURS * 2):
        clock.shift(timedelta(minutes=30))
        auth.visitor(token)
    assert auth.visitor(token) is None  # active all along, yet over the maximum


def test_the_database_holds_no_usable_session_token():
    auth.add_user("ada", "admin", PASSWORD)
    token, _ = auth.log_in("ada", PASSWORD)
    assert operators.session_of(token) is None
    assert operators.session_of(auth.token_hash(token)).user_name == "ada"


def test_wrong_passwords_lock_the_name_out_for_a_while(clock):
    auth.add_user("ada", "admin", PASSWORD)
    for _ in range(config.CONSOLE_MAX_FAILURES):
        assert auth.log_in("ada", "wrong password") is None
    assert auth.log_in("ada", PASSWORD) is None
    clock.shift(timedelta(minutes=config.CONSOLE_LOCK_MINUTES))
    assert auth.log_in("ada", PASSWORD) is not None


def test_roles_are_ordered():
    viewer, manager, admin = (auth.Visitor("x", role, "t") for role in auth.ROLES)
    assert viewer.may("viewer") and not viewer.may("campaign_manager")
    assert manager.may("campaign_manager") and not manager.may("admin")
    assert admin.may("admin") and admin.may("viewer")


def test_csrf_tokens_must_match():
    assert auth.csrf_ok("abc", "abc")
    assert not auth.csrf_ok("abc", "abd") and not auth.csrf_ok("abc", None) and not auth.csrf_ok(None, None)


def test_over_http_an_anonymous_visitor_gets_the_login_page(console):
    for path in ("/", "/campaigns", "/users", "/export/outcomes"):
        answer = requests.get(f"{console}{path}", timeout=10)
        assert answer.url == f"{console}/login" and "Sign in" in answer.text
    assert requests.post(f"{console}/campaigns", data={"name": "x"}, timeout=10).url == f"{console}/login"


def test_over_http_a_post_without_the_session_csrf_token_is_refused(console):
    browser = signed_in(console, "max")
    form = {"name": "x", "kind": "offer", "fr": "a", "es": "b", "en": "c", "rate": "10"}
    assert browser.post(f"{console}/campaigns", data=form, timeout=10).status_code == 403
    assert browser.post(f"{console}/campaigns", data={**form, "csrf": "forged"}, timeout=10).status_code == 403
    assert "No campaign yet" in browser.get(f"{console}/campaigns", timeout=10).text
    # the login form has its own token too
    anonymous = requests.Session()
    refused = anonymous.post(f"{console}/login", data={"name": "max", "password": PASSWORD, "csrf": "x"}, timeout=10)
    assert refused.status_code == 403


def test_over_http_roles_limit_what_each_user_does(console):
    viewer = signed_in(console, "vic")
    token = csrf_of(viewer.get(f"{console}/campaigns", timeout=10).text)
    assert "New campaign" not in viewer.get(f"{console}/campaigns", timeout=10).text
    form = {"csrf": token, "name": "x", "kind": "offer", "fr": "a", "es": "b", "en": "c", "rate": "10"}
    assert viewer.post(f"{console}/campaigns", data=form, timeout=10).status_code == 403
    assert viewer.get(f"{console}/users", timeout=10).status_code == 403
    manager = signed_in(console, "max")
    assert manager.get(f"{console}/users", timeout=10).status_code == 403
    admin = signed_in(console, "ada")
    page = admin.get(f"{console}/users", timeout=10)
    assert page.status_code == 200 and "vic" in page.text
    added = admin.post(
        f"{console}/users",
        data={"csrf": csrf_of(page.text), "action": "add", "name": "new.one", "role": "viewer", "password": PASSWORD},
        timeout=30,
    )
    assert added.status_code == 200 and "new.one" in added.text


def test_over_http_signing_out_ends_the_session(console):
    browser = signed_in(console, "vic")
    token = csrf_of(browser.get(f"{console}/", timeout=30).text)
    cookie = browser.cookies.get("console_session")
    browser.post(f"{console}/logout", data={"csrf": token}, timeout=10)
    replay = requests.get(f"{console}/", cookies={"console_session": cookie}, timeout=10)
    assert replay.url == f"{console}/login"


def test_add_user_reads_the_password_from_stdin_never_from_a_flag():
    command = [sys.executable, "-m", "console", "add-user", "ops.lead", "--role", "campaign_manager"]
    env = {**os.environ, "ASSISTANT_DB_URL": config.ASSISTANT_DB_URL}
    done = subprocess.run(command, input=f"{PASSWORD}\n", capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert operators.user("ops.lead").role == "campaign_manager"
    assert auth.log_in("ops.lead", PASSWORD) is not None
    refused = subprocess.run([*command, "--password", PASSWORD], capture_output=True, text=True, env=env, cwd=ROOT)
    assert refused.returncode != 0


def test_make_prune_deletes_expired_sessions_only(clock):
    from common.state import retention

    auth.add_user("ada", "admin", PASSWORD)
    old, _ = auth.log_in("ada", PASSWORD)
    clock.shift(timedelta(minutes=config.CONSOLE_SESSION_IDLE_MINUTES + 1))
    fresh, _ = auth.log_in("ada", PASSWORD)
    assert retention.prune()["console_session"] == 1
    assert operators.session_of(auth.token_hash(old)) is None
    assert auth.visitor(fresh).name == "ada"
