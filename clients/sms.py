"""The SMS gateway: Kannel's smsbox `GET /cgi-bin/sendsms`."""

import requests

from clients import http
from clients.errors import BackendError, BackendUnavailable, RateLimited, retry_after_seconds
from common import config


class SMSClient:
    def __init__(self, url: str = None, username: str = None, password: str = None, sender: str = None):
        self.url = url or config.SMS_SENDSMS_URL
        self.username = username or config.SMS_USERNAME
        self.password = password or config.SMS_PASSWORD
        self.sender = sender or config.SMS_SENDER
        # Sending is not idempotent: a retried GET could send the code twice, so no retries.
        self._http = http.session(retry_methods=())

    def send(self, to: str, text: str, dlr_url: str = None, dlr_mask: int = 0) -> None:
        """Hands one SMS to the gateway. 202 means accepted for delivery, not delivered: with `dlr_url`, Kannel
        calls it back with the outcome (the bits of `dlr_mask`; %d and %A in the URL become its value and the
        SMS centre's words)."""
        params = {
            "username": self.username,
            "password": self.password,
            "from": self.sender,
            "to": to,
            "text": text,
            "charset": "UTF-8",
            "coding": "0",
        }
        if dlr_url:
            params.update({"dlr-url": dlr_url, "dlr-mask": str(dlr_mask)})
        try:
            reply = self._http.get(self.url, params=params, timeout=http.timeout())
        except requests.RequestException as error:
            raise BackendUnavailable(f"sendsms: {type(error).__name__}") from None  # the URL holds the code
        if reply.status_code == 202:
            return
        if reply.status_code == 429:  # not taken: the same SMS may go again after the wait
            raise RateLimited("sendsms: too many requests", retry_after_seconds(reply.headers.get("Retry-After", "")))
        if reply.status_code == 503:
            raise BackendUnavailable("sendsms: temporal failure")
        raise BackendError("SMS_REJECTED", reply.text.strip(), reply.status_code)
