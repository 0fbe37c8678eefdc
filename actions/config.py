"""Every setting of the action server is read here, from the environment, and nowhere else."""
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


# The assistant's own state (language memory, identities, outbox...): SQLite by default,
# PostgreSQL in production (postgresql+psycopg2://user:pass@host/db).
ASSISTANT_DB_URL = _env("ASSISTANT_DB_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'assistant.db'}")

SUPPORTED_LANGUAGES = ("fr", "es", "en")
# Language of a conversation before the customer has written anything we can recognise.
DEFAULT_LANGUAGE = _env("DEFAULT_LANGUAGE", "en")

# Where customers reach a person until the Zendesk handoff is connected.
CARE_PHONE = _env("CARE_PHONE", "121")
