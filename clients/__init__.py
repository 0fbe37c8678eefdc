"""One HTTP client per operator system. Each answers typed results or raises BackendError."""

from clients.errors import BackendError, BackendUnavailable  # noqa: F401
