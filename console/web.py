"""What every console page shares: templates, the session cookie, and the check a handler starts with (signed in,
allowed for its role, and on a POST the session's CSRF token)."""

from functools import wraps
from pathlib import Path
from typing import Any, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic.response import HTTPResponse, html, redirect, text

from common import config
from console import auth

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"  # the login form's CSRF token, before there is a session (double submit)
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


def render(request, template: str, status: int = 200, **context: Any) -> HTTPResponse:
    who = getattr(request.ctx, "visitor", None)
    body = templates.get_template(template).render(visitor=who, csrf=who.csrf_token if who else "", **context)
    return html(body, status=status)


def set_cookie(response: HTTPResponse, name: str, value: str, max_age: Optional[int] = None) -> None:
    response.cookies[name] = value
    cookie = response.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/"
    cookie["secure"] = config.CONSOLE_SECURE_COOKIES
    if max_age is not None:
        cookie["max-age"] = max_age


def requires(role: str):
    """The handler runs for a signed-in user with this role or a higher one; a POST needs the session's CSRF
    token in its `csrf` field. Anyone else: the login page (or 403)."""

    def wrap(handler):
        @wraps(handler)
        async def checked(request, *args, **kwargs):
            who = auth.visitor(request.cookies.get(SESSION_COOKIE))
            if who is None:
                return redirect("/login", status=303)
            request.ctx.visitor = who
            if not who.may(role):
                return render(
                    request, "message.html", status=403, title="Not allowed", text="Your role cannot do this."
                )
            if request.method == "POST" and not auth.csrf_ok(who.csrf_token, (request.form or {}).get("csrf")):
                return text("refused: the form's CSRF token is missing or wrong; reload the page", status=403)
            return await handler(request, *args, **kwargs)

        return checked

    return wrap


def security_headers(request, response) -> None:
    """Scripts and styles only from the console itself; never in a frame; pages never cached."""
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if response.content_type and response.content_type.startswith(("text/html", "text/csv")):
        response.headers["Cache-Control"] = "no-store"
