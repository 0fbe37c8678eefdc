"""The action server (rasa-sdk). Run with: rasa run actions (it imports every module listed here)."""
from actions import (balances, conversation, invoices, journeys, language, loans, offers, operations, plan,  # noqa: F401
                     purchases, quota, stores, subscriptions, topups, usage)
from actions.identity import dialogue  # noqa: F401
