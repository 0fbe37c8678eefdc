"""The operator's BSS through its API gateway (TM Forum Open API v4, OAuth2 client credentials): what the rest
of the project imports from it. The client is in clients/bss/client.py, with its mixins commerce.py (what moves
money), appointments.py (store visits) and incidents.py (network incidents); the values it answers and the
shared readers of the gateway's JSON are in models.py."""

from clients.bss.client import BSSClient, new_idempotency_key  # noqa: F401
from clients.bss.models import (  # noqa: F401
    AddOn,
    Appointment,
    Bill,
    BillingAccount,
    Bucket,
    Incident,
    Line,
    Offering,
    Plan,
    Store,
    Usage,
    allowances_of,
    parse_allowance,
)
