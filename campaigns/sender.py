"""Sends the campaign messages whose time has come, each once, on the channel the customer uses.

Any number of senders may run (one per action-server replica, or a worker of their own): each message is
claimed in SQL before it is sent (common/state/campaigns.py). For each one, in order:
  1. the line refused this kind of campaign (common/state/consent.py)       -> skipped, never sent;
  2. it is night where the customer lives (CAMPAIGN_SENDING_HOURS)          -> back in the queue until morning;
  3. the line's latest chat channel (WhatsApp, Messenger) when it has one   -> said in that conversation by
     the assistant itself (Rasa's trigger_intent, EXTERNAL_campaign_message): the connector picks the
     WhatsApp template outside the 24-hour window, and the customer's reply continues there. Messenger allows
     no marketing or survey outside its window: those go by SMS instead;
  4. otherwise an SMS through Kannel, in the language remembered for the line.
A gateway that is down puts the message back in the queue (with a growing delay); one that refuses it fails it.
"""

import logging
import signal
import threading
from datetime import datetime, time, timedelta
from typing import Optional, Tuple

import phonenumbers
from zoneinfo import ZoneInfo

from campaigns import outages
from clients.errors import BackendError, BackendUnavailable
from clients.rasa_api import RasaClient
from clients.sms import SMSClient
from common import clock, config
from common.state import campaigns, consent, db, messaging
from common.state.campaigns import Campaign, CampaignRecipient

logger = logging.getLogger(__name__)
EXTERNAL_INTENT = "EXTERNAL_campaign_message"
MARKET_LANGUAGES = {region: language for language, region in config.LANGUAGE_REGIONS.items()}
BATCH = 50


class Sender:
    def __init__(self, sms: Optional[SMSClient] = None, rasa: Optional[RasaClient] = None):
        self.sms = sms or SMSClient()
        self.rasa = rasa or RasaClient()
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """Sends what is due now; answers how many messages were handled."""
        campaigns.recover()
        handled = 0
        for recipient_id in campaigns.due(BATCH):
            if self.stopping.is_set():
                break
            row = campaigns.claim(recipient_id, config.CAMPAIGN_CLAIM_SECONDS)
            if row is not None:
                self.deliver(campaigns.get(row.campaign_id), row)
                handled += 1
        campaigns.complete_finished()
        return handled

    def watch(self, every_seconds: float = 1.0) -> None:
        """Sends until SIGTERM / SIGINT, finishing the message under way first; turns incidents into outage
        broadcasts every OUTAGE_POLL_SECONDS."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        next_outage_round = 0.0
        while not self.stopping.is_set():
            if config.OUTAGE_POLL_SECONDS and clock.timestamp() >= next_outage_round:
                outages.poll()  # the NOC's new and resolved incidents become broadcasts
                next_outage_round = clock.timestamp() + config.OUTAGE_POLL_SECONDS
            if not self.run_once():
                self.stopping.wait(every_seconds)

    def deliver(self, campaign: Campaign, row: CampaignRecipient) -> None:
        if consent.refused(row.msisdn, campaign.kind):
            campaigns.finish(row.id, campaigns.SKIPPED, reason="opted out")
            return
        opens = next_window(row.msisdn, clock.now())
        if opens is not None:
            campaigns.later(row.id, opens, "outside the sending hours")
            return
        language = language_for(row)
        try:
            channel, conversation = chat_route(row.msisdn, campaign.kind)
            if channel and self.rasa.trigger_intent(
                conversation, EXTERNAL_INTENT, {"campaign_id": campaign.id, "campaign_recipient": str(row.id)}
            ):
                campaigns.finish(row.id, campaigns.SENT, channel=channel)
                return
            self.sms.send(row.msisdn, campaigns.text_for(campaign, row, language))
            campaigns.finish(row.id, campaigns.SENT, channel="sms")
        except BackendUnavailable as error:
            if row.attempts >= config.CAMPAIGN_MAX_ATTEMPTS:
                campaigns.finish(row.id, campaigns.FAILED, reason=str(error))
            else:
                campaigns.later(row.id, clock.now() + timedelta(seconds=30 * 2**row.attempts), str(error))
        except BackendError as error:
            campaigns.finish(row.id, campaigns.FAILED, reason=str(error))


def market_of(msisdn: str) -> Optional[str]:
    return phonenumbers.region_code_for_number(phonenumbers.parse(msisdn))


def language_for(row: CampaignRecipient) -> str:
    """The list's language, else the one the customer chose last time, else their market's."""
    remembered = db.remembered_language(f"line:{row.msisdn}")
    return row.language or remembered or MARKET_LANGUAGES.get(market_of(row.msisdn), config.DEFAULT_LANGUAGE)


def next_window(msisdn: str, moment: datetime) -> Optional[datetime]:
    """None inside the customer's sending hours; else when they next open (UTC)."""
    market = market_of(msisdn)
    hours = config.CAMPAIGN_SENDING_HOURS.get(market)
    zone = config.MARKET_TIME_ZONES.get(market)
    if not hours or not zone:
        return None
    start, end = (time.fromisoformat(part) for part in hours.split("-"))
    local = moment.astimezone(ZoneInfo(zone))
    if start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=ZoneInfo(zone)).astimezone(moment.tzinfo)


def chat_route(msisdn: str, kind: str) -> Tuple[Optional[str], Optional[str]]:
    """(channel, conversation id) of the line's latest chat conversation that may carry this kind; else (None,
    None): SMS."""
    link = db.latest_chat(f"line:{msisdn}")
    if link is None:
        return None, None
    channel, conversation = link.channel, link.conversation_id
    if channel == "messenger" and kind in campaigns.MARKETING_KINDS:
        last = messaging.last_inbound("messenger", conversation)
        if last is None or clock.now() - last > timedelta(hours=config.META_WINDOW_HOURS):
            return None, None  # no marketing or survey under a Messenger tag
    return channel, conversation
