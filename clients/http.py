"""requests sessions for the operator's systems: timeouts always, retries only where safe."""

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from common import config


def session(retry_methods=("GET", "HEAD")) -> requests.Session:
    """A session that retries connection failures and 502/503/504 only for idempotent methods.

    A POST that moves money is never retried blindly here: the caller retries it with the same
    Idempotency-Key, which the system uses to answer the first result instead of moving money twice.
    """
    s = requests.Session()
    # An empty allowed_methods means "any method" to urllib3: no retry methods means no retries at all.
    retry = (
        Retry(total=0, raise_on_status=False)
        if not retry_methods
        else Retry(
            total=2,
            connect=2,
            read=1,
            backoff_factor=0.3,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset(retry_methods),
            raise_on_status=False,
            respect_retry_after_header=True,
        )
    )
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


def timeout():
    return (config.HTTP_CONNECT_TIMEOUT, config.HTTP_READ_TIMEOUT)
