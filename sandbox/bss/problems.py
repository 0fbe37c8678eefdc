"""TMF656 Service Problem Management: network incidents by area."""

from flask import request
from sqlalchemy import select

from sandbox import db

from . import settings
from .api import blueprint
from .common import (
    bad_request,
    created,
    href,
    iso,
    json_body,
    listing,
    new_id,
    normalise_text,
    not_found,
    now,
    one,
    parse_time,
)
from .models import ServiceProblem

PROBLEM = "/tmf-api/serviceProblemManagement/v4/serviceProblem"
SERVICE_NAMES = {"mobileData": "Mobile data", "voice": "Voice calls", "sms": "SMS", "homeInternet": "Home internet"}


def problem_json(problem: ServiceProblem) -> dict:
    body = {
        "id": problem.id,
        "href": href(f"{PROBLEM}/{problem.id}"),
        "name": problem.name,
        "description": problem.description,
        "category": problem.category,
        "priority": problem.priority,
        "status": problem.status,
        "statusChangeDate": iso(problem.resolved or problem.raised),
        "timeRaised": iso(problem.raised),
        "originatingSystem": "NOC",
        "expectedResolutionDate": iso(problem.expected_resolution),
        "affectedService": [
            {
                "id": problem.affected_service,
                "name": SERVICE_NAMES[problem.affected_service],
                "@referredType": "Service",
            }
        ],
        "affectedLocation": [
            {
                "id": f"{problem.market}-{normalise_text(problem.city).replace(' ', '-')}",
                "name": problem.city,
                "role": "affectedArea",
                "@referredType": "GeographicLocation",
            }
        ],
        "characteristic": [
            {"name": "market", "value": problem.market},
            {"name": "timeZone", "value": settings.MARKETS[problem.market]["timeZone"]},
        ],
        "@type": "ServiceProblem",
    }
    if problem.resolved:
        body["resolutionDate"] = iso(problem.resolved)
    return body


@blueprint.get(PROBLEM)
def list_problems():
    city = request.args.get("city")
    with db.transaction() as session:
        problems = session.execute(select(ServiceProblem).order_by(ServiceProblem.raised.desc())).scalars()
        items = [problem_json(p) for p in problems if not city or normalise_text(p.city) == normalise_text(city)]
        return listing(items, handled={"city"})


@blueprint.get(f"{PROBLEM}/<problem_id>")
def get_problem(problem_id):
    with db.transaction() as session:
        problem = session.get(ServiceProblem, problem_id)
        if problem is None:
            raise not_found("serviceProblem", problem_id)
        return one(problem_json(problem))


@blueprint.post(PROBLEM)
def raise_problem():
    """The NOC raises an incident: {"city", "market", "affectedService": "mobileData"|..., "name",
    "expectedResolutionDate" (optional)}."""
    body = json_body()
    market, service = body.get("market"), body.get("affectedService")
    if market not in settings.MARKETS or service not in SERVICE_NAMES or not body.get("city"):
        raise bad_request(f"city, market ({', '.join(settings.MARKETS)}) and affectedService are required")
    expected = body.get("expectedResolutionDate")
    problem = ServiceProblem(
        id=new_id("SP"),
        market=market,
        city=str(body["city"]),
        name=str(body.get("name") or f"{SERVICE_NAMES[service]} outage"),
        description=str(body.get("description") or ""),
        category="network",
        affected_service=service,
        priority=int(body.get("priority") or 1),
        status="acknowledged",
        raised=now(),
        expected_resolution=parse_time(expected, "expectedResolutionDate") if expected else None,
    )
    with db.transaction() as session:
        session.add(problem)
        session.flush()
        return created(problem_json(problem))


@blueprint.patch(f"{PROBLEM}/<problem_id>")
def update_problem(problem_id):
    """{"status": "resolved"} closes the incident; {"expectedResolutionDate": ...} moves its estimate."""
    body = json_body()
    with db.transaction() as session:
        problem = session.get(ServiceProblem, problem_id)
        if problem is None:
            raise not_found("serviceProblem", problem_id)
        if body.get("status") == "resolved" and problem.status != "resolved":
            problem.status, problem.resolved = "resolved", now()
        if body.get("expectedResolutionDate"):
            problem.expected_resolution = parse_time(body["expectedResolutionDate"], "expectedResolutionDate")
        session.flush()
        return one(problem_json(problem))
