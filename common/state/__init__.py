"""The assistant's own state in SQL (SQLAlchemy): never the operator's data, which lives in its systems."""

from common.state.db import remember_language, remembered_language  # noqa: F401
