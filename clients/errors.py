"""What a client raises. Actions turn these into a clear message in the customer's language."""


class BackendError(Exception):
    """The system answered with a business error (TMF Error code, e.g. ERR_INSUFFICIENT_FUNDS)."""

    def __init__(self, code: str, message: str = "", status: int = 0):
        super().__init__(f"{code}: {message}" if message else code)
        self.code, self.message, self.status = code, message, status


class BackendUnavailable(BackendError):
    """The system could not be reached or failed (timeout, 5xx): nothing is known to have happened."""

    def __init__(self, message: str = ""):
        super().__init__("UNAVAILABLE", message)
