"""Network incidents by area (TMF656 serviceProblem); mixed into BSSClient."""

from typing import Any, Dict, List

from clients.bss.models import Incident, parse_time


def _incident_from_json(p: Dict[str, Any]) -> Incident:
    chars = {c.get("name"): c.get("value") for c in p.get("characteristic") or []}
    return Incident(
        id=p["id"],
        services=tuple(s["id"] for s in p.get("affectedService") or [] if s.get("id")),
        cities=tuple(loc["name"] for loc in p.get("affectedLocation") or [] if loc.get("name")),
        status=p.get("status", ""),
        raised_at=parse_time(p.get("timeRaised")),
        expected_end=parse_time(p.get("expectedResolutionDate")),
        market=chars.get("market", ""),
        time_zone=chars.get("timeZone") or "UTC",
    )


class Incidents:
    """Network incidents by area (TMF656; mixed into BSSClient)."""

    PROBLEM = "/serviceProblemManagement/v4/serviceProblem"

    def incidents(self, city: str) -> List[Incident]:
        """Incidents still being worked on in a city (the gateway ignores case and accents), newest first."""
        found = [_incident_from_json(p) for p in self._get(self.PROBLEM, city=city, status="acknowledged")]
        return [i for i in found if i.status == "acknowledged"]  # whatever the gateway filters

    def every_incident(self) -> List[Incident]:
        """Every incident the gateway lists, in every area, being worked on or resolved (outage broadcasts)."""
        return [_incident_from_json(p) for p in self._get(self.PROBLEM)]
