"""Store visits: stores (TMF674) and their agendas (TMF646 appointments); mixed into BSSClient."""

import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from clients.bss.models import Appointment, Store, parse_time, store_from_json
from clients.errors import BackendError
from common.clock import now


def _appointment_from_json(a: Dict[str, Any]) -> Appointment:
    place = a.get("relatedPlace") or {}
    return Appointment(
        id=a["id"],
        store_id=place.get("id", ""),
        store_name=place.get("name", ""),
        start=parse_time((a.get("validFor") or {}).get("startDateTime")),
        status=a.get("status", ""),
    )


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path_id(value: str) -> str:
    """An id that goes into a URL path: only what the gateway's ids are made of."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", str(value or "")):
        raise BackendError("ERR_NOT_FOUND", f"not an id: {value!r}", 404)
    return value


class Appointments:
    """Store visits (TMF674 stores, TMF646 appointments; mixed into BSSClient). Nothing here moves money:
    the store's agenda itself refuses a slot already held (409 ERR_SLOT_TAKEN), whoever asked first."""

    APPOINTMENT = "/appointment/v4/appointment"

    def store(self, store_id: str) -> Optional[Store]:
        try:
            return store_from_json(self._get(f"/geographicSiteManagement/v4/geographicSite/{_path_id(store_id)}"))
        except BackendError as error:
            if error.status == 404:
                return None
            raise

    def free_slots(self, store_id: str, start: datetime = None, end: datetime = None) -> List[datetime]:
        """The store's free slot starts (aware UTC), soonest first; within [start, end] if given.
        A POST, but a search: it changes nothing and may be repeated."""
        body: Dict[str, Any] = {"relatedPlace": {"id": store_id, "@referredType": "GeographicSite"}}
        window = {k: _utc_text(v) for k, v in (("startDateTime", start), ("endDateTime", end)) if v is not None}
        if window:
            body["requestedTimeSlot"] = [{"validFor": window}]
        reply = self._request("POST", "/appointment/v4/searchTimeSlot", json=body).json()
        return sorted(parse_time(s["validFor"]["startDateTime"]) for s in reply.get("availableTimeSlot") or [])

    def book_appointment(
        self,
        store_id: str,
        start: datetime,
        party: Dict[str, Any],
        msisdn: Optional[str],
        description: str,
        idempotency_key: str,
    ) -> Appointment:
        """Takes the slot starting at `start` for `party` (409 ERR_SLOT_TAKEN if someone holds it,
        400 ERR_INVALID_SLOT if it is not a slot of that store's agenda)."""
        body = {
            "relatedPlace": {"id": store_id, "@referredType": "GeographicSite"},
            "validFor": {"startDateTime": _utc_text(start)},
            "category": "storeVisit",
            "description": description,
            "relatedParty": [party],
            "contactMedium": [{"mediumType": "phone", "characteristic": {"phoneNumber": msisdn}}] if msisdn else [],
        }
        reply = self._request("POST", self.APPOINTMENT, json=body, idempotency_key=idempotency_key)
        return _appointment_from_json(reply.json())

    def reschedule_appointment(self, appointment_id: str, start: datetime) -> Appointment:
        reply = self._request(
            "PATCH",
            f"{self.APPOINTMENT}/{_path_id(appointment_id)}",
            json={"validFor": {"startDateTime": _utc_text(start)}},
        )
        return _appointment_from_json(reply.json())

    def cancel_appointment(self, appointment_id: str) -> Appointment:
        """Cancels and frees the slot (409 ERR_NOT_MODIFIABLE if already cancelled)."""
        reply = self._request("PATCH", f"{self.APPOINTMENT}/{_path_id(appointment_id)}", json={"status": "cancelled"})
        return _appointment_from_json(reply.json())

    def appointments(self, party_id: str, since: Optional[datetime] = None) -> List[Appointment]:
        """The party's confirmed appointments still to come (after `since`, default now), soonest first."""
        since = since or now()
        found = self._get(
            self.APPOINTMENT,
            **{"relatedParty.id": party_id, "status": "confirmed", "validFor.startDateTime.gte": _utc_text(since)},
        )
        mine = [
            _appointment_from_json(a)
            for a in found
            if any(p.get("id") == party_id for p in a.get("relatedParty") or [])
        ]  # whatever the gateway filters
        return sorted(
            (a for a in mine if a.status == "confirmed" and a.start and a.start >= since), key=lambda a: a.start
        )
