"""TM Forum Error objects (TMF630): every error body has code, reason, message, status, @type."""

from flask import jsonify


class TMFError(Exception):
    def __init__(self, status: int, code: str, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.status, self.code, self.reason, self.message = status, code, reason, message or reason

    def response(self):
        body = {
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
            "status": str(self.status),
            "@type": "Error",
        }
        return jsonify(body), self.status
