"""The console's Sanic app: sign in and out, the KPI dashboard with its CSV exports, the users page (admin), and
the campaign pages (console/campaign_pages.py). `create_app()` builds it; `python -m console serve` runs it."""

import asyncio
import csv
import io
import logging
import secrets
from datetime import date, timedelta
from typing import Dict, Optional, Tuple

from sanic import Sanic
from sanic.response import HTTPResponse, json, redirect, text

from common import config
from common.state import kpi_daily, operators
from console import auth, campaign_pages
from console.web import HERE, LOGIN_COOKIE, SESSION_COOKIE, render, requires, security_headers, set_cookie
from metrics import daily, dashboard
from metrics.conversations import MAU_DAYS

logger = logging.getLogger(__name__)
DEFAULT_DAYS = 30
MAX_DAYS = 731


def period_and_filters(args) -> Tuple[date, date, Dict[str, Optional[str]]]:
    """From the query string: the period (default the last 30 days) and the filters (empty: all)."""
    last = parse_day(args.get("to")) or daily.today()
    first = parse_day(args.get("from")) or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        first, last = last, first
    first = max(first, last - timedelta(days=MAX_DAYS - 1))
    filters = {name: (args.get(name) or None) for name in kpi_daily.GROUP}
    return first, last, {k: v[:32] if v else None for k, v in filters.items()}


def parse_day(value: Optional[str]) -> Optional[date]:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


async def figures(first: date, last: date, filters: Dict[str, Optional[str]]) -> Dict:
    """The dashboard's figures, off the event loop: rolling up a day never seen reads the tracker store."""
    return await asyncio.get_running_loop().run_in_executor(None, dashboard.build, first, last, filters)


async def show_dashboard(request) -> HTTPResponse:
    first, last, filters = period_and_filters(request.args)
    report = await figures(first, last, filters)
    # series as [name, values] pairs: Jinja's tojson sorts a dict's keys, and the order is the legend's and the stack's
    charts = [
        {
            "id": c.id,
            "title": c.title,
            "type": c.type,
            "labels": c.labels,
            "series": list(c.series.items()),
            "stacked": c.stacked,
            "horizontal": c.horizontal,
        }
        for c in report["charts"]
    ]
    return render(
        request,
        "dashboard.html",
        report=report,
        charts=charts,
        tables=report["charts"],
        choices=kpi_daily.group_values(),
        query=request.query_string,
    )


async def export_csv(request, chart_id: str) -> HTTPResponse:
    first, last, filters = period_and_filters(request.args)
    report = await figures(first, last, filters)
    chart = next((c for c in report["charts"] if c.id == chart_id), None)
    if chart is None:
        return text("no such chart", status=404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(chart.columns or ["day"])
    writer.writerows([["" if v is None else v for v in row] for row in chart.rows])
    name = f"{chart_id}_{first.isoformat()}_{last.isoformat()}.csv"
    return text(
        out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def login_page(request, error: str = "", status: int = 200) -> HTTPResponse:
    token = secrets.token_urlsafe(32)
    response = render(request, "login.html", status=status, login_token=token, error=error)
    set_cookie(response, LOGIN_COOKIE, token, max_age=3600)
    return response


async def log_in(request) -> HTTPResponse:
    form = request.form or {}
    if not auth.csrf_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        return await login_page(request, "The form expired: try again.", status=403)
    signed_in = auth.log_in((form.get("name") or "").strip(), form.get("password") or "")
    if signed_in is None:
        return await login_page(request, "Wrong name or password (or too many tries: wait a little).", status=401)
    response = redirect("/", status=303)
    set_cookie(response, SESSION_COOKIE, signed_in[0])
    del response.cookies[LOGIN_COOKIE]
    return response


async def log_out(request) -> HTTPResponse:
    auth.log_out(request.cookies.get(SESSION_COOKIE))
    response = redirect("/login", status=303)
    del response.cookies[SESSION_COOKIE]
    return response


async def users_page(request, error: str = "", status: int = 200) -> HTTPResponse:
    return render(request, "users.html", status=status, users=operators.users(), roles=auth.ROLES, error=error)


async def change_users(request) -> HTTPResponse:
    form, me = request.form, request.ctx.visitor
    action, name = form.get("action"), (form.get("name") or "").strip()
    try:
        if action == "add":
            auth.add_user(name, form.get("role") or "", form.get("password") or "")
        elif name == me.name:
            raise ValueError("you cannot change or remove yourself here (another admin can)")
        elif action == "role" and form.get("role") in auth.ROLES:
            operators.set_role(name, form.get("role"))
        elif action == "remove":
            operators.remove_user(name)
    except ValueError as error:
        return await users_page(request, str(error), status=400)
    return redirect("/users", status=303)


async def keep_days_fresh(app) -> None:
    """Rolls up the unfinished days of the daily aggregate again every KPI_REFRESH_MINUTES."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            last = daily.today()  # the days before count in the monthly active users of the last ones
            await loop.run_in_executor(None, daily.refresh, last - timedelta(days=2 * MAU_DAYS), last)
        except Exception:  # noqa: BLE001 - the next round tries again
            logger.exception("could not refresh the dashboard's days")
        await asyncio.sleep(config.KPI_REFRESH_MINUTES * 60)


def create_app(name: str = "console") -> Sanic:
    app = Sanic(name)
    app.config.FORWARDED_SECRET = None
    app.static("/static/chart.umd.js", str(config.CONSOLE_NODE_MODULES / "chart.js" / "dist" / "chart.umd.js"))
    app.static("/static", str(HERE / "static"))
    app.add_route(lambda request: json({"status": "ok"}), "/health", name="health")
    app.add_route(login_page, "/login", methods=["GET"], name="login_page")
    app.add_route(log_in, "/login", methods=["POST"], name="log_in")
    app.add_route(log_out, "/logout", methods=["POST"], name="log_out")
    app.add_route(requires("viewer")(show_dashboard), "/", methods=["GET"], name="dashboard")
    app.add_route(requires("viewer")(export_csv), "/export/<chart_id>", methods=["GET"], name="export_csv")
    app.add_route(requires("admin")(users_page), "/users", methods=["GET"], name="users")
    app.add_route(requires("admin")(change_users), "/users", methods=["POST"], name="change_users")
    campaign_pages.register(app)
    app.register_middleware(security_headers, "response")
    app.register_listener(lambda app, loop: app.add_task(keep_days_fresh(app)), "after_server_start")
    return app
