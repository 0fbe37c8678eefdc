"""The action server (rasa-sdk). Run with: rasa run actions (it imports every module listed here)."""
from actions import balances, conversation, invoices, language, loans, plan, quota, stores, subscriptions, usage  # noqa: F401
from actions.identity import dialogue  # noqa: F401
