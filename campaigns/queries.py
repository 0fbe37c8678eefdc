"""A campaign's audience from the operator's systems instead of a file: the same rows campaigns/audience.py makes
of an upload ({"msisdn", "name", "language"}), and what was left out with the reason. `python -m campaigns
audience` calls these; so will the console's campaign page.

- bills_due(days): lines whose account has a bill not (fully) paid, due in the next `days` days (TMF678);
- overdue(): the same, due before now;
- offer(offering_id): active mobile lines for which it is among their `top` next best offers (the BSS ranks its
  whole catalogue for each line, so "recommended at all" would be everyone);
- outage_area(city): the active customers of a city (campaigns/outages.py: a line proved on some channel in the
  last 30 days whose BSS city is that one).
A home contract with no mobile line on its account cannot be texted: it is left out, and said so.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Dict, List, Optional

from campaigns import outages
from clients.bss import Bill, BSSClient, Line
from common import clock

QUERIES = ("bills-due", "overdue", "offer", "outage-area")


@dataclass
class QueryAudience:
    rows: List[Dict[str, str]] = field(default_factory=list)
    left_out: List[Dict[str, str]] = field(default_factory=list)  # {"what", "reason"}


def row_for(line: Line) -> Dict[str, str]:
    return {"msisdn": line.msisdn, "name": line.customer_name or "", "language": line.preferred_language or ""}


def _bill_holders(bss: BSSClient, bills: List[Bill]) -> QueryAudience:
    """Each bill's account's mobile lines, once each (an account with two bills due is one message)."""
    found, seen = QueryAudience(), set()
    for account in dict.fromkeys(bill.billing_account for bill in bills):
        lines = [line for line in bss.lines(**{"billingAccount.id": account}) if line.msisdn]
        if not lines:
            found.left_out.append({"what": account or "?", "reason": "no mobile number on this account"})
        for line in lines:
            if line.status == "active" and line.msisdn not in seen:
                seen.add(line.msisdn)
                found.rows.append(row_for(line))
    return found


def bills_due(bss: BSSClient, days: int) -> QueryAudience:
    if days < 0:
        raise ValueError("days is 0 (due today) or more")
    moment = clock.now()
    return _bill_holders(bss, bss.unpaid_bills(due_from=moment, due_before=moment + timedelta(days=days)))


def overdue(bss: BSSClient) -> QueryAudience:
    return _bill_holders(bss, bss.unpaid_bills(due_before=clock.now()))


def offer(bss: BSSClient, offering_id: str, top: int = 3) -> QueryAudience:
    if bss.offering(offering_id) is None:
        raise ValueError(f"no offering {offering_id} in the catalogue")
    found = QueryAudience()
    for line in bss.lines(status="active"):
        if line.msisdn and any(o.id == offering_id for o in bss.recommendations(line.msisdn)[:top]):
            found.rows.append(row_for(line))
    return found


def outage_area(bss: BSSClient, city: str) -> QueryAudience:
    found = QueryAudience()
    for msisdn in outages.active_lines_in(bss, [city]):
        line = bss.line(msisdn)
        found.rows.append(row_for(line) if line else {"msisdn": msisdn, "name": "", "language": ""})
    return found


def run(query: str, bss: Optional[BSSClient] = None, **options) -> QueryAudience:
    """One of QUERIES with its options (days; offering, top; city)."""
    bss = bss or BSSClient()
    if query == "bills-due":
        return bills_due(bss, int(options.get("days") or 0))
    if query == "overdue":
        return overdue(bss)
    if query == "offer":
        if not options.get("offering"):
            raise ValueError("--offering is needed")
        return offer(bss, options["offering"], int(options.get("top") or 3))
    if query == "outage-area":
        if not options.get("city"):
            raise ValueError("--city is needed")
        return outage_area(bss, options["city"])
    raise ValueError(f"query must be one of {', '.join(QUERIES)}")
