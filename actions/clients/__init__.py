"""One HTTP client per operator system. Each answers typed results or raises BackendError."""
from actions.clients.errors import BackendError, BackendUnavailable  # noqa: F401
