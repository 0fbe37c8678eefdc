"""TMF656 Service Problem Management: network incidents by area."""

from flask import request
from sqlalchemy import select

from sandbox import db

from . import settings
from .api import blueprint
from .common import href, iso, listing, normalise_text, not_found, one
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
