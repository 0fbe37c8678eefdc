"""Sends the campaign messages whose time has come, each once, on the channel the customer uses.

Any number of senders may run (one per action-server replica, or a worker of their own): each message is
claimed in SQL before it is sent (common/state/campaigns.py). For each one, in order:
  1. the line refused this kind of campaign (common/state/consent.py)       -> skipped, never sent;
  2. it is night where the customer lives (CAMPAIGN_SENDING_HOURS)          -> back in the queue until morning;
  3. the line's latest chat channel (WhatsApp, Messenger) when it has one   -> said in that conversation by
     the assistant itself (Rasa's trigger_intent, EXTERNAL_campaign_message): the connector picks the
     WhatsApp template outside the 24-hour window, and the customer's reply continues there. Messenger allows
     no marketing or survey outside its window: those go by SMS instead;
  4. otherwise an SMS through Kannel, in the language remembered for the line, with a delivery report.
Each channel keeps its pace over every sender (CAMPAIGN_CHANNEL_RATES, common/state/channel_pace.py); a new
WhatsApp conversation past the messaging limit (WHATSAPP_MESSAGING_TIER) goes by SMS. A 429 (Retry-After) holds
the channel and puts the message back, not counted as a failure: it was not taken, so it goes again, once.
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
from clients.errors import BackendError, BackendUnavailable, RateLimited
from clients.rasa_api import RasaClient
from clients.sms import SMSClient
from common import clock, config
from common.state import campaign_deliveries, campaigns, channel_pace, consent, db, messaging
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
        channel = None
        try:
            channel, conversation = chat_route(row.msisdn, campaign.kind)
            if channel is not None and self.by_chat(campaign, row, channel, conversation):
                return
            channel = "sms"
            self.by_sms(campaign, row, language_for(row))
        except RateLimited as error:  # not taken: the same message goes after the wait, and nothing else before
            until = clock.now() + timedelta(seconds=max(error.retry_after, 1))
            channel_pace.hold(channel, until)
            campaigns.later(row.id, until, f"{channel}: rate limited", failed_attempt=False)
        except BackendUnavailable as error:
            if row.attempts >= config.CAMPAIGN_MAX_ATTEMPTS:
                campaigns.finish(row.id, campaigns.FAILED, reason=str(error))
            else:
                campaigns.later(row.id, clock.now() + timedelta(seconds=30 * 2**row.attempts), str(error))
        except BackendError as error:
            campaigns.finish(row.id, campaigns.FAILED, reason=str(error))

    def take_turn(self, row: CampaignRecipient, channel: str, starts_conversation_with: Optional[str] = None) -> str:
        """The channel's pace (and WhatsApp's messaging limit): GO, OVER_LIMIT, or WAIT (the row is back in the
        queue until the channel's next turn)."""
        verdict, at = channel_pace.take(
            channel,
            config.CAMPAIGN_CHANNEL_RATES.get(channel, config.CAMPAIGN_DEFAULT_RATE),
            starts_conversation_with,
            config.WHATSAPP_MESSAGING_TIER,
        )
        if verdict == channel_pace.WAIT:
            campaigns.later(row.id, at, f"{channel}: waiting for its pace", failed_attempt=False)
        return verdict

    def by_chat(self, campaign: Campaign, row: CampaignRecipient, channel: str, conversation: str) -> bool:
        """Said in the customer's chat conversation by the assistant; False: send it by SMS instead."""
        outside = not window_open(channel, conversation)
        verdict = self.take_turn(row, channel, conversation if channel == "whatsapp" and outside else None)
        if verdict == channel_pace.OVER_LIMIT:
            return False  # WhatsApp's messaging limit is a day long: an SMS now beats a message days late
        if verdict == channel_pace.WAIT:
            return True
        campaign_deliveries.forget_attempts(row.id)
        said = self.rasa.trigger_intent(
            conversation, EXTERNAL_INTENT, {"campaign_id": campaign.id, "campaign_recipient": str(row.id)}
        )
        # what the connector recorded says whether the platform took it; a connector that records nothing
        # (another channel) leaves Rasa's word for it
        attempt = campaign_deliveries.attempt_of(row.id)
        if attempt is None:
            if said:
                campaigns.finish(row.id, campaigns.SENT, channel=channel)
            return said
        if attempt.status == campaign_deliveries.THROTTLED:
            raise RateLimited(f"{channel}: too many requests", attempt.retry_after or 0)
        if attempt.status == campaign_deliveries.REFUSED:
            campaigns.finish(row.id, campaigns.FAILED, channel=channel, reason=f"{channel}: {attempt.reason}")
        else:
            campaigns.finish(row.id, campaigns.SENT, channel=channel)
        return True

    def by_sms(self, campaign: Campaign, row: CampaignRecipient, language: str) -> None:
        """Through Kannel, with a delivery report coming back to connectors/sms_delivery.py."""
        if self.take_turn(row, "sms") == channel_pace.WAIT:
            return
        delivery_id, token = campaign_deliveries.begin_sms(row.id, campaign.id, row.msisdn)
        try:
            self.sms.send(
                row.msisdn,
                campaigns.text_for(campaign, row, language),
                dlr_url=campaign_deliveries.report_url(delivery_id, token),
                dlr_mask=campaign_deliveries.DLR_MASK,
            )
        except BackendError:
            campaign_deliveries.sms_not_accepted(delivery_id)
            raise
        campaign_deliveries.sms_accepted(delivery_id)
        campaigns.finish(row.id, campaigns.SENT, channel="sms")


def window_open(channel: str, conversation: str) -> bool:
    """Has the customer written within the platform's customer-service window?"""
    last = messaging.last_inbound(channel, conversation)
    return last is not None and clock.now() - last < timedelta(hours=config.META_WINDOW_HOURS)


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
    if channel == "messenger" and kind in consent.MARKETING_KINDS and not window_open(channel, conversation):
        return None, None  # no marketing or survey under a Messenger tag
    return channel, conversation
