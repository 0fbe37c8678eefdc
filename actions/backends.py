"""The operator systems' clients the action server uses: one of each per process, made on first use
(never at import), from the settings in common/config.py. Tests point the settings at their sandbox, then
call `reset()`."""

from functools import lru_cache

from clients.bss import BSSClient
from clients.payments import PaymentsClient
from clients.sms import SMSClient
from clients.zendesk import ZendeskClient


@lru_cache(maxsize=None)
def bss() -> BSSClient:
    return BSSClient()


@lru_cache(maxsize=None)
def sms() -> SMSClient:
    return SMSClient()


@lru_cache(maxsize=None)
def payments() -> PaymentsClient:
    return PaymentsClient()


@lru_cache(maxsize=None)
def zendesk() -> ZendeskClient:
    return ZendeskClient()


def reset() -> None:
    """Forgets every client, so the next call builds one from the current settings."""
    for accessor in (bss, sms, payments, zendesk):
        accessor.cache_clear()
