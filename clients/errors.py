"""What a client raises. Actions turn these into a clear message in the customer's language."""

from email.utils import parsedate_to_datetime

from common import clock


class BackendError(Exception):
    """The system answered with a business error (TMF Error code, e.g. ERR_INSUFFICIENT_FUNDS)."""

    def __init__(self, code: str, message: str = "", status: int = 0):
        super().__init__(f"{code}: {message}" if message else code)
        self.code, self.message, self.status = code, message, status


class BackendUnavailable(BackendError):
    """The system could not be reached or failed (timeout, 5xx): nothing is known to have happened."""

    def __init__(self, message: str = ""):
        super().__init__("UNAVAILABLE", message)


class RateLimited(BackendUnavailable):
    """The system answered 429: nothing was done; try again after `retry_after` seconds (its Retry-After)."""

    def __init__(self, message: str = "", retry_after: float = 0):
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(header: str, default: float = 30.0) -> float:
    """Retry-After as seconds: a number of seconds, or an HTTP date (RFC 9110); `default` when absent or odd."""
    if not header:
        return default
    try:
        return max(float(header), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(header) - clock.now()).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return default
