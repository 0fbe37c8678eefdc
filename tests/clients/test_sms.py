"""The Kannel adapter against the sandbox, over real HTTP."""

import pytest
import requests

from clients import BackendError, BackendUnavailable
from clients.sms import SMSClient
from tests.conftest import sms_to


def test_an_sms_reaches_the_outbox(operator):
    SMSClient().send("+2290197000001", "Bonjour Awa")
    assert sms_to(operator, "+2290197000001")[-1]["text"] == "Bonjour Awa"


def test_wrong_credentials_are_a_rejection(operator):
    with pytest.raises(BackendError) as error:
        SMSClient(password="wrong").send("+2290197000001", "x")
    assert error.value.status == 403


def test_a_temporal_failure_is_unavailable_and_not_retried(operator):
    requests.post(f"{operator}/_sandbox/faults", json={"service": "sms", "status": 503, "count": 1}, timeout=5)
    with pytest.raises(BackendUnavailable):
        SMSClient().send("+2290197000001", "x")
    assert sms_to(operator, "+2290197000001") == []
