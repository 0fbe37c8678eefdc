"""The operator's BSS behind its API gateway: TM Forum Open API v4 with OAuth2 client credentials.

One module per TMF API; `blueprint` carries them all, `fault_response` answers injected failures.
The card payment gateway (sandbox/payments.py) fulfils paid checkouts in-process with `settle_bill`
and `topup_by_card`, inside its own transaction.
"""

from . import (  # noqa: F401 (routes)
    account,
    balance,
    billing,
    catalog,
    inventory,
    ordering,
    party,
    problems,
    recommend,
    sites,
    usage,
)
from .api import blueprint, fault_response
from .balance import topup_by_card
from .billing import settle_bill

__all__ = ["blueprint", "fault_response", "settle_bill", "topup_by_card"]
