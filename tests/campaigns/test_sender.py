"""The sender against the sandbox's real Kannel: each message once, in the customer's language, on their channel,
never to a line that said stop, never at night, at the campaign's pace; a failing gateway loses nothing."""

from datetime import datetime, timedelta, timezone

import pytest
import requests

from campaigns.sender import Sender, next_window
from common import clock as project_clock
from common.state import campaigns, consent, db, messaging
from tests.clock import at_each_instant
from tests.conftest import sms_to

MESSAGES = {"fr": "Bonjour {name}, votre facture arrive.", "es": "Hola {name}, tu factura llega.", "en": "Hi {name}."}
BJ_1, BJ_2, GT_1 = "+2290197000001", "+2290197000002", "+50255123456"


class FakeRasa:
    """Rasa's trigger_intent, as the sender sees it (the real one is exercised end to end)."""

    def __init__(self, answers=True):
        self.calls, self.answers = [], answers

    def trigger_intent(self, conversation_id, intent, entities):
        self.calls.append((conversation_id, intent, entities))
        return self.answers


def campaign(kind="payment_reminder", rate=6000, starts_at=None, numbers=(BJ_1, BJ_2, GT_1), **row):
    # started a minute ago unless told: every message already due at a high rate
    made = campaigns.create("test", kind, MESSAGES, starts_at or project_clock.now() - timedelta(minutes=1), rate)
    campaigns.add_recipients(made.id, [{"msisdn": n, **row} for n in numbers])
    campaigns.set_status(made.id, campaigns.RUNNING)
    return made


def texts(sandbox, number):
    return [m["text"] for m in sms_to(sandbox, number)]


@pytest.fixture
def sender(operator):
    return Sender(rasa=FakeRasa())


def noon_everywhere(clock):
    clock.move_to(datetime(2026, 12, 2, 15, 0, tzinfo=timezone.utc))  # 16:00 in Cotonou, 09:00 in Guatemala


def test_each_number_once_in_its_language(sender, operator, clock):
    noon_everywhere(clock)
    db.remember_language(f"line:{BJ_2}", "en")
    made = campaign(name="Aïcha")
    assert sender.run_once() == 3
    assert sender.run_once() == 0
    assert texts(operator, BJ_1) == ["Bonjour Aïcha, votre facture arrive."]
    assert texts(operator, BJ_2) == ["Hi Aïcha."]  # the language the customer chose last time
    assert texts(operator, GT_1) == ["Hola Aïcha, tu factura llega."]  # the market's
    report = campaigns.report(made.id)
    assert report["targeted"] == report["sent"] == 3 and report["sent_by_channel"] == {"sms": 3}
    assert campaigns.get(made.id).status == campaigns.DONE


def test_an_opted_out_line_is_never_sent_a_marketing_message(sender, operator, clock):
    noon_everywhere(clock)
    consent.opt_out(BJ_1, consent.ALL_MARKETING, "whatsapp")
    consent.opt_out(BJ_2, "outage", "whatsapp")
    offer = campaign(kind="offer")
    sender.run_once()
    assert texts(operator, BJ_1) == []
    assert len(texts(operator, BJ_2)) == 1  # refused outage notices, not offers
    assert campaigns.report(offer.id)["skipped"] == 1
    reminder = campaign(kind="payment_reminder")  # a service message: "stop the offers" does not stop it
    sender.run_once()
    assert len(texts(operator, BJ_1)) == 1
    assert campaigns.report(reminder.id)["reasons"] == {}


def test_nobody_is_messaged_at_night_where_they_live(sender, operator, clock):
    clock.move_to(datetime(2026, 12, 2, 23, 30, tzinfo=timezone.utc))  # 00:30 in Cotonou, 17:30 in Guatemala
    campaign()
    sender.run_once()
    assert texts(operator, BJ_1) == [] and len(texts(operator, GT_1)) == 1
    clock.move_to(datetime(2026, 12, 3, 6, 59, tzinfo=timezone.utc))
    assert sender.run_once() == 0  # 07:59 in Cotonou
    clock.move_to(datetime(2026, 12, 3, 7, 0, tzinfo=timezone.utc))
    assert sender.run_once() == 2
    assert len(texts(operator, BJ_1)) == 1 and len(texts(operator, GT_1)) == 1


@at_each_instant()
def test_the_window_opens_at_eight_in_the_customers_own_time_zone(instant):
    opens = next_window(BJ_1, instant)
    local_hour = instant.astimezone(timezone(timedelta(hours=1))).hour
    if 8 <= local_hour < 20:
        assert opens is None
    else:
        assert opens > instant and opens.astimezone(timezone(timedelta(hours=1))).strftime("%H:%M") == "08:00"
        assert opens - instant <= timedelta(hours=12)


def test_the_campaign_keeps_its_pace(sender, operator, clock):
    noon_everywhere(clock)
    campaign(rate=60, starts_at=project_clock.now())  # one a second
    assert sender.run_once() == 1
    clock.shift(timedelta(seconds=1))
    assert sender.run_once() == 1
    clock.shift(timedelta(seconds=10))
    assert sender.run_once() == 1


def test_a_gateway_that_is_down_delays_the_message_and_one_that_refuses_fails_it(sender, operator, clock):
    noon_everywhere(clock)
    requests.post(f"{operator}/_sandbox/faults", json={"service": "sms", "status": 503, "count": 1}).raise_for_status()
    made = campaign(numbers=(BJ_1,))
    sender.run_once()
    assert texts(operator, BJ_1) == [] and campaigns.report(made.id)["queued"] == 1
    clock.shift(timedelta(minutes=2))
    sender.run_once()
    assert len(texts(operator, BJ_1)) == 1
    requests.post(f"{operator}/_sandbox/faults", json={"service": "sms", "status": 400, "count": 1}).raise_for_status()
    refused = campaign(numbers=(BJ_2,))
    sender.run_once()
    assert campaigns.report(refused.id)["failed"] == 1


def test_a_sender_that_died_mid_send_never_sends_that_message_again(sender, operator, clock):
    noon_everywhere(clock)
    made = campaign(numbers=(BJ_1, BJ_2))
    first, second = campaigns.due(10)
    assert campaigns.claim(first, 60) is not None  # then the process was killed
    assert campaigns.claim(first, 60) is None  # nobody else takes it meanwhile
    clock.shift(timedelta(minutes=2))
    sender.run_once()
    report = campaigns.report(made.id)
    assert report["unknown"] == 1 and report["sent"] == 1  # reported, not sent twice
    assert len(texts(operator, BJ_2)) == 1


def test_a_whatsapp_customer_is_told_in_their_conversation(operator, clock):
    noon_everywhere(clock)
    with db.session() as s, s.begin():
        moment = project_clock.now()
        for conversation, channel, number in (("22990000001", "whatsapp", BJ_1), ("psid-7", "messenger", BJ_2)):
            s.add(
                db.ChannelLink(
                    conversation_id=conversation,
                    subject=f"line:{number}",
                    channel=channel,
                    first_linked_at=moment,
                    last_verified_at=moment,
                )
            )
    rasa = FakeRasa()
    sender = Sender(rasa=rasa)
    offer = campaign(kind="offer", numbers=(BJ_1, BJ_2))
    sender.run_once()
    assert [call[0] for call in rasa.calls] == ["22990000001"]  # Messenger: no offer outside its window
    assert rasa.calls[0][1] == "EXTERNAL_campaign_message" and rasa.calls[0][2]["campaign_id"] == offer.id
    assert texts(operator, BJ_1) == [] and len(texts(operator, BJ_2)) == 1
    messaging.note_inbound("messenger", "psid-7", project_clock.now())  # wrote an hour ago: the window is open
    campaign(kind="offer", numbers=(BJ_2,))
    sender.run_once()
    assert rasa.calls[-1][0] == "psid-7"


def test_a_sender_asked_to_stop_finishes_its_message_and_leaves_the_rest_queued(operator, clock):
    """SIGTERM (a deploy, a scale-down): nothing half-sent, so the next sender misses nothing."""
    noon_everywhere(clock)
    made = campaign()

    class StopsAfterOne(Sender):
        def deliver(self, campaign, row):
            super().deliver(campaign, row)
            self.stopping.set()

    assert StopsAfterOne(rasa=FakeRasa()).run_once() == 1
    report = campaigns.report(made.id)
    assert (report["sent"], report["queued"], report["sending"], report["unknown"]) == (1, 2, 0, 0)
    assert Sender(rasa=FakeRasa()).run_once() == 2
