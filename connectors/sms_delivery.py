"""Kannel's delivery reports for campaign SMS, as a Rasa input channel (the gateway calls back where Rasa listens).

credentials.yml:   connectors.sms_delivery.SmsDeliveryInput:
routes:            GET /webhooks/sms_delivery/report?id=<delivery>&token=<token>&status=%d&reply=%A

The campaign sender (campaigns/sender.py) gives each SMS a `dlr-url` naming its row in
common/state/campaign_deliveries.py and a random token made for that SMS alone: Kannel does not sign its
callbacks, so a report is believed only with the token of the very message it is about (compared with its
hash in constant time); anything else is refused with 403. %d is Kannel's report value (1 delivered to the
phone, 2 not delivered to the phone, 16 refused by the SMS centre; 4 and 8 are only steps on the way), %A what
the SMS centre said (`stat:UNDELIV err:001`). A report given twice changes nothing the second time.
"""

import asyncio
import logging
from typing import Any, Awaitable, Callable, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from common.state import campaign_deliveries
from connectors.external_events import webhook_answer

logger = logging.getLogger(__name__)


class SmsDeliveryInput(InputChannel):
    """Takes Kannel's reports in; says nothing to anyone."""

    @classmethod
    def name(cls) -> Text:
        return "sms_delivery"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/report", methods=["GET", "POST"])
        async def report(request: Request) -> HTTPResponse:
            return await self.handle(request)

        return hook

    async def handle(self, request: Request) -> HTTPResponse:
        args = request.args
        try:
            value = int(args.get("status") or "")
        except ValueError:
            return webhook_answer(400, "refused", error="status is not a Kannel report value")
        known = await asyncio.to_thread(
            campaign_deliveries.sms_report,
            args.get("id") or "",
            args.get("token") or "",
            value,
            args.get("reply") or "",
        )
        if not known:
            logger.warning("sms delivery report refused: unknown message or wrong token")
            return webhook_answer(403, "refused", error="unknown message or wrong token")
        return webhook_answer(200, "ok")
