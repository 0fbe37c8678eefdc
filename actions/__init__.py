"""The action server (rasa-sdk). Run with: rasa run actions (it imports every module listed here)."""
from actions import (appointments, balances, handoff, help_center, invoices, journeys, language, loans,  # noqa: F401
                     nps, offers, operations, outages, outcomes, payments_received, plan, purchases, quota, stores,
                     subscriptions, tickets, topups, usage)
from actions.identity import dialogue  # noqa: F401
