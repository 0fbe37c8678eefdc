"""Unpaid bills by due date, for campaign audiences (TMF678 customerBill with TMF630 filters); mixed into BSSClient."""

from datetime import datetime, timezone
from typing import List

from clients.bss.models import Bill

UNPAID = "sent,partiallyPaid"


class Audiences:
    """Queries over every customer (mixed into BSSClient), for campaigns/queries.py."""

    BILL = "/customerBillManagement/v4/customerBill"

    def unpaid_bills(self, due_from: datetime = None, due_before: datetime = None) -> List[Bill]:
        """Bills not (fully) paid whose payment is due in [due_from, due_before), oldest due first."""
        filters = {"state": UNPAID}
        if due_from is not None:
            filters["paymentDueDate.gte"] = _tmf_time(due_from)
        if due_before is not None:
            filters["paymentDueDate.lt"] = _tmf_time(due_before)
        found = [self._bill(b) for b in self._get(self.BILL, **filters)]
        return sorted((b for b in found if not b.settled), key=lambda b: (b.due_date is None, b.due_date or 0, b.id))


def _tmf_time(moment: datetime) -> str:
    """UTC with a "Z", as the gateway writes its own date-times (its filters compare them as text)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
