"""What every TMF resource module shares: time, money, references, errors, lists (TMF630)."""

import json
import math
import unicodedata
import uuid
from datetime import datetime, timedelta, timezone

from flask import has_request_context, jsonify, request

from common import clock
from sandbox.errors import TMFError

from . import settings

JSON_TYPE = "application/json;charset=utf-8"
LIST_PARAMS = {"offset", "limit", "fields"}


# --- time -------------------------------------------------------------------------------------


def now() -> datetime:
    """Naive UTC, to the second: what the tables store."""
    return clock.utc_naive()


def iso(moment):
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text, field: str) -> datetime:
    """An ISO-8601 date-time with Z or an offset, as naive UTC."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{field} must be an ISO-8601 date-time, got {text!r}")
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def market_zone(market: str):
    """The market's time zone; a fixed offset if this machine has no tz database (neither zone has DST)."""
    info = settings.MARKETS[market]
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(info["timeZone"])
    except Exception:
        return timezone(timedelta(hours=info["utc_offset_hours"]))


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


# --- money and quantities -------------------------------------------------------------------------


def money(cents: int, currency: str) -> dict:
    """TMF Money."""
    return {"unit": currency, "value": round(cents / 100, 2)}


def money_quantity(cents: int, currency: str) -> dict:
    """TMF654 Quantity of money."""
    return {"amount": round(cents / 100, 2), "units": currency}


def to_cents(value, field: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise bad_request(f"{field} must be a number, got {value!r}")
    if not math.isfinite(number) or number <= 0:
        raise bad_request(f"{field} must be a positive amount, got {value!r}")
    return int(round(number * 100))


def fmt_money(cents: int, currency: str) -> str:
    """For error messages: "2 500 XOF", "Q35.50"."""
    if currency == "GTQ":
        return f"Q{cents / 100:,.2f}"
    return f"{cents / 100:,.0f} {currency}".replace(",", " ")


# --- references -----------------------------------------------------------------------------------


def href(path: str) -> str:
    # Outside a request (another sandbox module calling in-process) the default address stands in.
    root = request.host_url if has_request_context() else "http://127.0.0.1:5080/"
    return root.rstrip("/") + path


def msisdn_ref(msisdn: str) -> dict:
    return {"id": msisdn, "@referredType": "MSISDN"}


def ref_id(value):
    """The id of a reference given as {"id": ...}, [{"id": ...}], or a bare string."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("id")
    return str(value).strip() if value not in (None, "") else None


def normalise_text(text: str) -> str:
    """Lower case, no accents: "Cadjèhoun" == "cadjehoun"."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


# --- requests and errors --------------------------------------------------------------------------


def bad_request(message: str, code: str = "ERR_BAD_REQUEST") -> TMFError:
    return TMFError(400, code, "Bad request", message)


def not_found(kind: str, identifier) -> TMFError:
    return TMFError(404, "ERR_NOT_FOUND", f"{kind} not found", f"No {kind} with id {identifier}")


def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    return body


def error_response(status: int, code: str, reason: str, message: str = "", headers: dict = None):
    response = TMFError(status, code, reason, message).response()[0]
    response.status_code = status
    response.headers.update(headers or {})
    return response


def created(body: dict):
    return jsonify(body), 201


def one(body: dict):
    return jsonify(body), 200


# --- lists (TMF630: offset/limit, fields, attribute filters) ---------------------------------------


def _values_at(item, path: list):
    """Every leaf at a dotted path, walking through lists: realizingResource.id, category.name..."""
    if not path:
        return item if isinstance(item, list) else [item]
    if isinstance(item, list):
        return [leaf for element in item for leaf in _values_at(element, path)]
    if isinstance(item, dict) and path[0] in item:
        return _values_at(item[path[0]], path[1:])
    return []


def comparable(value):
    # "+2290197000001" also matches when a client forgot to url-encode "+" (it arrives as a space).
    return str(value).strip().lstrip("+") if value is not None else ""


def _matches(item: dict, name: str, wanted: str) -> bool:
    for op in ("gte", "gt", "lte", "lt"):
        if name.endswith("." + op):
            values = [v for v in _values_at(item, name[: -len(op) - 1].split(".")) if v is not None]
            return any(_compare(v, wanted, op) for v in values)
    accepted = {comparable(choice) for choice in wanted.split(",")}
    return any(comparable(value) in accepted for value in _values_at(item, name.split(".")))


def _compare(value, wanted: str, op: str) -> bool:
    try:
        left, right = float(value), float(wanted)
    except (TypeError, ValueError):
        left, right = str(value), wanted  # ISO-8601 "Z" date-times compare as text
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def filter_items(items: list, handled: set = frozenset()) -> list:
    """Keeps the items matching every query parameter not handled by the endpoint itself."""
    for name, wanted in request.args.items():
        if name in LIST_PARAMS or name in handled:
            continue
        items = [item for item in items if _matches(item, name, wanted)]
    return items


def _int_param(name: str, default):
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit():
        raise bad_request(f"{name} must be a non-negative integer")
    return int(raw)


def listing(items: list, handled: set = frozenset(), filtered: bool = False):
    """A TMF list answer: filters, then offset/limit, then fields; X-Total-Count / X-Result-Count."""
    if not filtered:
        items = filter_items(items, handled)
    offset, limit = _int_param("offset", 0), _int_param("limit", None)
    page = items[offset:] if limit is None else items[offset : offset + limit]
    fields = [f.strip() for f in request.args.get("fields", "").split(",") if f.strip()]
    if fields:
        keep = set(fields) | {"id", "href", "@type"}
        page = [{k: v for k, v in item.items() if k in keep} for item in page]
    response = jsonify(page)
    response.headers["X-Total-Count"] = str(len(items))
    response.headers["X-Result-Count"] = str(len(page))
    return response


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
