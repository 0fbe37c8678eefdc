"""The action server (rasa-sdk). Run with: rasa run actions (it imports every module listed here)."""
from actions import conversation, language  # noqa: F401
