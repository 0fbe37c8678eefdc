"""TMF674 Geographic Site (stores) and TMF646 Appointment (store visits).

Each store has one shared agenda of 30-minute slots inside its opening hours, for the next 7 days.
A slot is held by at most one appointment: the UNIQUE (site_id, slot) constraint decides between
concurrent bookings, and a cancelled appointment sets its slot to NULL, which frees it.
"""

import math
from datetime import datetime, timedelta, timezone

from flask import request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sandbox import db
from sandbox.errors import TMFError

from . import settings
from .api import blueprint
from .common import (
    bad_request,
    created,
    href,
    iso,
    json_body,
    listing,
    market_zone,
    new_id,
    normalise_text,
    not_found,
    now,
    one,
    parse_time,
    ref_id,
)
from .models import Appointment, Site

SITE = "/tmf-api/geographicSiteManagement/v4/geographicSite"
APPOINTMENT = "/tmf-api/appointment/v4/appointment"
SEARCH = "/tmf-api/appointment/v4/searchTimeSlot"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLOT = timedelta(minutes=settings.APPOINTMENT_SLOT_MINUTES)


# --- stores ---------------------------------------------------------------------------------------


def site_ref(site: Site) -> dict:
    return {"id": site.id, "href": href(f"{SITE}/{site.id}"), "name": site.name, "@referredType": "GeographicSite"}


def site_json(site: Site, distance_km: float = None) -> dict:
    zone_name = settings.MARKETS[site.market]["timeZone"]
    calendar = []
    for day in DAYS:
        hours = site.hours.get(day)
        entry = {"day": day, "status": "open" if hours else "closed", "timeZone": zone_name}
        if hours:
            entry["hourPeriod"] = [{"startHour": hours[0], "endHour": hours[1]}]
        calendar.append(entry)
    body = {
        "id": site.id,
        "href": href(f"{SITE}/{site.id}"),
        "name": site.name,
        "code": site.id,
        "status": "active",
        "description": f"{site.name}, {site.locality or site.city}",
        "calendar": calendar,
        "place": [
            {
                "@type": "GeographicAddress",
                "streetNr": site.street_nr,
                "streetName": site.street_name,
                "locality": site.locality,
                "city": site.city,
                "stateOrProvince": site.state_province,
                "country": settings.MARKETS[site.market]["country"],
                "countryCode": site.market,
                "geographicLocation": {
                    "@type": "GeoJsonPoint",
                    "geoJson": {"type": "Point", "coordinates": [float(site.lon), float(site.lat)]},
                },
            }
        ],
        "contactMedium": [{"mediumType": "phone", "characteristic": {"phoneNumber": site.phone}}] if site.phone else [],
        "@type": "GeographicSite",
    }
    if distance_km is not None:
        body["distance"] = {"amount": round(distance_km, 2), "units": "km"}
    return body


def _km(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def _in_place(site: Site, wanted: str) -> bool:
    """ "zona 10" matches the locality Zona 10 but "zona 1" does not; accents and case do not matter."""
    query = normalise_text(wanted).split()
    for name in (site.city, site.locality, site.name, *(site.aliases or "").split(";")):
        words = normalise_text(name or "").replace(",", " ").split()
        if any(words[i : i + len(query)] == query for i in range(len(words) - len(query) + 1)):
            return True
    return False


@blueprint.get(SITE)
def list_sites():
    city, lat, lon = request.args.get("city"), request.args.get("lat"), request.args.get("lon")
    if (lat is None) != (lon is None):
        raise bad_request("lat and lon go together")
    try:
        origin = (float(lat), float(lon)) if lat is not None else None
    except ValueError:
        raise bad_request("lat and lon must be decimal degrees")
    with db.transaction() as session:
        sites = [
            s
            for s in session.execute(select(Site).order_by(Site.market, Site.id)).scalars()
            if not city or _in_place(s, city)
        ]
        if origin:
            measured = sorted(((_km(*origin, float(s.lat), float(s.lon)), s) for s in sites), key=lambda p: p[0])
            items = [site_json(s, km) for km, s in measured]
        else:
            items = [site_json(s) for s in sites]
        return listing(items, handled={"city", "lat", "lon"})


@blueprint.get(f"{SITE}/<site_id>")
def get_site(site_id):
    with db.transaction() as session:
        site = session.get(Site, site_id)
        if site is None:
            raise not_found("geographicSite", site_id)
        return one(site_json(site))


# --- the agenda -------------------------------------------------------------------------------------


def agenda(site: Site, start: datetime = None, end: datetime = None) -> list:
    """Every 30-minute slot (naive UTC starts) within opening hours, from now to 7 days ahead,
    narrowed to [start, end] when given."""
    zone = market_zone(site.market)
    current = now()
    horizon = current + timedelta(days=settings.APPOINTMENT_HORIZON_DAYS)
    today = current.replace(tzinfo=timezone.utc).astimezone(zone).date()
    slots = []
    for offset in range(settings.APPOINTMENT_HORIZON_DAYS + 1):
        day = today + timedelta(days=offset)
        hours = site.hours.get(DAYS[day.weekday()])
        if not hours:
            continue
        opens, closes = (datetime.combine(day, datetime.strptime(h, "%H:%M").time(), tzinfo=zone) for h in hours)
        moment = opens
        while moment + SLOT <= closes:
            utc = moment.astimezone(timezone.utc).replace(tzinfo=None)
            if current < utc <= horizon and (start is None or utc >= start) and (end is None or utc + SLOT <= end):
                slots.append(utc)
            moment += SLOT
    return slots


def _taken(session, site_id: str) -> set:
    return set(
        session.execute(
            select(Appointment.slot).where(Appointment.site_id == site_id, Appointment.slot.isnot(None))
        ).scalars()
    )


def _slot_json(site: Site, start: datetime) -> dict:
    return {
        "id": f"{site.id}-{start:%Y%m%d%H%M}",
        "validFor": {"startDateTime": iso(start), "endDateTime": iso(start + SLOT)},
        "relatedPlace": site_ref(site),
    }


def _site_of(session, body: dict) -> Site:
    site_id = ref_id(body.get("relatedPlace"))
    if not site_id:
        raise bad_request("relatedPlace.id (the store) is required")
    site = session.get(Site, site_id)
    if site is None:
        raise not_found("geographicSite", site_id)
    return site


@blueprint.post(SEARCH)
def search_time_slots():
    body = json_body()
    window = ((body.get("requestedTimeSlot") or [{}])[0] or {}).get("validFor") or {}
    start = parse_time(window["startDateTime"], "startDateTime") if window.get("startDateTime") else None
    end = parse_time(window["endDateTime"], "endDateTime") if window.get("endDateTime") else None
    with db.transaction() as session:
        site = _site_of(session, body)
        taken = _taken(session, site.id)
        free = [_slot_json(site, s) for s in agenda(site, start, end) if s not in taken]
        search_id = new_id("STS")
        return created(
            {
                "id": search_id,
                "href": href(f"{SEARCH}/{search_id}"),
                "status": "created",
                "searchDate": iso(now()),
                "searchResult": "success" if free else "fail",
                "relatedPlace": site_ref(site),
                "requestedTimeSlot": body.get("requestedTimeSlot") or [],
                "availableTimeSlot": free,
                "@type": "SearchTimeSlot",
            }
        )


# --- appointments -------------------------------------------------------------------------------------


def appointment_json(session, appointment: Appointment) -> dict:
    return {
        "id": appointment.id,
        "href": href(f"{APPOINTMENT}/{appointment.id}"),
        "status": appointment.status,
        "category": appointment.category,
        "description": appointment.description,
        "creationDate": iso(appointment.created),
        "lastUpdate": iso(appointment.updated),
        "validFor": {"startDateTime": iso(appointment.start), "endDateTime": iso(appointment.start + SLOT)},
        "relatedPlace": site_ref(session.get(Site, appointment.site_id)),
        "relatedParty": appointment.related_party,
        "contactMedium": appointment.contact_medium,
        "@type": "Appointment",
    }


def _slot_start(site: Site, body: dict) -> datetime:
    text = (body.get("validFor") or {}).get("startDateTime")
    if not text:
        raise bad_request("validFor.startDateTime (the slot) is required")
    start = parse_time(text, "validFor.startDateTime")
    if start not in set(agenda(site)):
        raise TMFError(
            400,
            "ERR_INVALID_SLOT",
            "Invalid slot",
            f"{iso(start)} is not a {settings.APPOINTMENT_SLOT_MINUTES}-minute slot of {site.name} within "
            f"its opening hours in the next {settings.APPOINTMENT_HORIZON_DAYS} days",
        )
    return start


def _hold(session, appointment: Appointment, site: Site):
    """Writes the slot; the UNIQUE constraint refuses it if another appointment holds it."""
    slot, store = iso(appointment.slot), site.name  # read now: a failed flush expires the objects
    try:
        session.flush()
    except IntegrityError:
        raise TMFError(
            409, "ERR_SLOT_TAKEN", "Slot taken", f"The {slot} slot at {store} is already booked: search for another one"
        )


@blueprint.post(APPOINTMENT)
def create_appointment():
    body = json_body()
    with db.transaction() as session:
        site = _site_of(session, body)
        start = _slot_start(site, body)
        moment = now()
        appointment = Appointment(
            id=new_id("APT"),
            site_id=site.id,
            start=start,
            slot=start,
            status="confirmed",
            category=body.get("category") or "storeVisit",
            description=body.get("description"),
            related_party=body.get("relatedParty") or [],
            contact_medium=body.get("contactMedium") or [],
            created=moment,
            updated=moment,
        )
        session.add(appointment)
        _hold(session, appointment, site)
        return created(appointment_json(session, appointment))


@blueprint.patch(f"{APPOINTMENT}/<appointment_id>")
def update_appointment(appointment_id):
    body = json_body()
    with db.transaction() as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise not_found("appointment", appointment_id)
        if appointment.status == "cancelled":
            raise TMFError(
                409,
                "ERR_NOT_MODIFIABLE",
                "Appointment cancelled",
                f"Appointment {appointment.id} is cancelled: book a new one",
            )
        status = body.get("status")
        if status not in (None, "confirmed", "cancelled"):
            raise bad_request("status can only become cancelled")
        for field in ("description", "category"):
            if field in body:
                setattr(appointment, field, body[field])
        if "contactMedium" in body:
            appointment.contact_medium = body["contactMedium"]
        site = session.get(Site, appointment.site_id)
        if status == "cancelled":
            appointment.status, appointment.slot = "cancelled", None
        elif (body.get("validFor") or {}).get("startDateTime"):
            start = _slot_start(site, body)
            appointment.start, appointment.slot = start, start
        appointment.updated = now()
        _hold(session, appointment, site)
        return one(appointment_json(session, appointment))


@blueprint.get(APPOINTMENT)
def list_appointments():
    with db.transaction() as session:
        appointments = session.execute(select(Appointment).order_by(Appointment.start, Appointment.id)).scalars()
        return listing([appointment_json(session, a) for a in appointments])


@blueprint.get(f"{APPOINTMENT}/<appointment_id>")
def get_appointment(appointment_id):
    with db.transaction() as session:
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            raise not_found("appointment", appointment_id)
        return one(appointment_json(session, appointment))
