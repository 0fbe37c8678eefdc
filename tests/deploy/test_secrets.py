"""Secrets: made from the environment by deploy/secrets.sh, never in a committed file."""

import base64
import math
import os
import re
import shutil
import subprocess
from collections import Counter

import pytest
import yaml

from tests.deploy.files import DEPLOY, ROOT, SECRET_LIKE

SCRIPT = str(DEPLOY / "secrets.sh")
KEYS = subprocess.run([SCRIPT, "--list-keys"], capture_output=True, text=True, check=True).stdout.split()
ASSIGNMENT = re.compile(
    r"(?i)(secret|token|password|passwd|api[_-]?key|private[_-]?key)[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_\-+/=.]{16,})"
)
KNOWN_FORMATS = re.compile(
    r"sk_live_[0-9a-zA-Z]{8,}|-----BEGIN [A-Z ]*PRIVATE KEY|AKIA[0-9A-Z]{16}|ghp_[A-Za-z0-9]{30,}|xox[bap]-\w+"
)


def looks_random(value: str) -> bool:
    counts = Counter(value)
    entropy = -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())
    classes = [any(c.isdigit() for c in value), any(c.isupper() for c in value), any(c.islower() for c in value)]
    return entropy >= 3.5 and all(classes)


def secrets_in(text: str):
    found = [m.group(2) for m in ASSIGNMENT.finditer(text) if looks_random(m.group(2))]
    return found + KNOWN_FORMATS.findall(text)


def test_the_detector_finds_token_like_values():
    # made-up values, split so that this file does not hold one
    assert secrets_in("RASA_AUTH_TOKEN=" + "Xk3vP9qLm2" + "Zt7RwY8nB4cD6f")
    assert secrets_in('password: "' + "q8Lr2VtX" + '9mWz4KpB"')
    assert secrets_in("-----BEGIN RSA " + "PRIVATE KEY-----")
    assert not secrets_in("BSS_CLIENT_SECRET=sandbox-secret")
    assert not secrets_in("password: ${DB_PASSWORD}")


def test_no_committed_file_holds_a_secret_value():
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True)
    leaks = {}
    for name in files.stdout.split():
        path = ROOT / name
        if name.endswith("package-lock.json") or not path.is_file():  # lock file: integrity hashes, not secrets
            continue
        try:
            found = secrets_in(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            continue
        if found:
            leaks[name] = found
    assert not leaks


def test_the_env_file_template_holds_no_secret_and_the_real_one_is_ignored():
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert not SECRET_LIKE.search(key) or value == "", f".env.example gives {key} a value"
    ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/.env"], cwd=ROOT)
    assert ignored.returncode == 0, "deploy/.env must be gitignored"


def run_script(*args, **env):
    base = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    return subprocess.run([SCRIPT, *args], env={**base, **env}, capture_output=True, text=True)


def test_the_script_names_every_missing_value_and_creates_nothing():
    result = run_script("--dry-run", RASA_AUTH_TOKEN="t")
    assert result.returncode == 1
    assert "DB_PASSWORD" in result.stderr and "OTP_SECRET" in result.stderr and "RASA_AUTH_TOKEN" not in result.stderr
    assert result.stdout == ""


@pytest.mark.skipif(not shutil.which("kubectl"), reason="kubectl is not installed (the script needs it)")
def test_the_script_builds_the_secret_from_the_environment(tmp_path):
    values = {key: f"value-of-{key}" for key in KEYS if not key.endswith("_DB_URL")}
    values["DB_PASSWORD"] = "p@ss/word"
    env_file = tmp_path / "outside-git.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    result = run_script("--dry-run", "--namespace", "assistant", "--env-file", str(env_file))
    assert result.returncode == 0, result.stderr
    secret = yaml.safe_load(result.stdout)
    assert secret["kind"] == "Secret"
    assert (secret["metadata"]["name"], secret["metadata"]["namespace"]) == ("assistant-secrets", "assistant")
    data = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert set(data) == set(KEYS)
    assert data["OTP_SECRET"] == "value-of-OTP_SECRET"
    # the database URLs are made from the password, quoted for a URL
    assert data["ASSISTANT_DB_URL"] == "postgresql+psycopg2://assistant:p%40ss%2Fword@postgres:5432/assistant"
    assert data["TRACKER_DB_URL"].endswith("@postgres:5432/rasa")
