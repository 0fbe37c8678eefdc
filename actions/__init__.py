"""The action server (rasa-sdk). Run with: rasa run actions (it imports every module listed here)."""
from actions import (appointments, balances, conversation, invoices, journeys, language, loans, nps,  # noqa: F401
                     offers, operations, outages, outcomes, payments_received, plan, purchases, quota, stores,
                     subscriptions, topups, usage)
from actions.identity import dialogue  # noqa: F401
