"""The action server (rasa-sdk). Run with: rasa run actions (it imports every module listed here)."""
from actions import balances, conversation, language  # noqa: F401
from actions.identity import dialogue  # noqa: F401
