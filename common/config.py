"""Every setting of the action server is read here, from the environment, and nowhere else."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


# The assistant's own state (language memory, identities, outbox...): SQLite by default,
# PostgreSQL in production (postgresql+psycopg2://user:pass@host/db).
ASSISTANT_DB_URL = _env("ASSISTANT_DB_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'assistant.db'}")

SUPPORTED_LANGUAGES = ("fr", "es", "en")
# Language of a conversation before the customer has written anything we can recognise.
DEFAULT_LANGUAGE = _env("DEFAULT_LANGUAGE", "en")


# --- HTTP to the operator's systems -----------------------------------------------------------
HTTP_CONNECT_TIMEOUT = float(_env("HTTP_CONNECT_TIMEOUT", "3"))
HTTP_READ_TIMEOUT = float(_env("HTTP_READ_TIMEOUT", "10"))
SANDBOX_URL = _env("SANDBOX_URL", "http://127.0.0.1:5080")

# BSS behind the API gateway (TM Forum Open APIs), OAuth2 client credentials.
BSS_BASE_URL = _env("BSS_BASE_URL", f"{SANDBOX_URL}/tmf-api")
BSS_TOKEN_URL = _env("BSS_TOKEN_URL", f"{SANDBOX_URL}/oauth/token")
BSS_CLIENT_ID = _env("BSS_CLIENT_ID", "assistant")
BSS_CLIENT_SECRET = _env("BSS_CLIENT_SECRET", "sandbox-secret")

# SMS gateway (Kannel smsbox sendsms).
SMS_SENDSMS_URL = _env("SMS_SENDSMS_URL", f"{SANDBOX_URL}/cgi-bin/sendsms")
SMS_USERNAME = _env("SMS_USERNAME", "assistant")
SMS_PASSWORD = _env("SMS_PASSWORD", "sandbox-sms")
SMS_SENDER = _env("SMS_SENDER", "OPERATOR")

# --- Identification ------------------------------------------------------------------------
# Key for the keyed hash of one-time codes (a leaked database must not give codes away).
OTP_SECRET = _env("OTP_SECRET", "change-me-in-production")
OTP_TTL_SECONDS = int(_env("OTP_TTL_SECONDS", "300"))
OTP_MAX_ATTEMPTS = int(_env("OTP_MAX_ATTEMPTS", "3"))
OTP_LOCK_MINUTES = int(_env("OTP_LOCK_MINUTES", "15"))
OTP_RESEND_SECONDS = int(_env("OTP_RESEND_SECONDS", "60"))
OTP_MAX_SENDS_PER_HOUR = int(_env("OTP_MAX_SENDS_PER_HOUR", "5"))
HOME_MAX_FAILURES = int(_env("HOME_MAX_FAILURES", "3"))
HOME_LOCK_MINUTES = int(_env("HOME_LOCK_MINUTES", "15"))
# A verified identity ends after this long without account activity.
IDENTITY_IDLE_MINUTES = int(_env("IDENTITY_IDLE_MINUTES", "15"))
# Where a number typed without a country code may belong, in order of preference; the
# conversation's language moves its own market first (fr -> BJ, es -> GT).
PHONE_REGIONS = tuple(_env("PHONE_REGIONS", "BJ,GT").split(","))
LANGUAGE_REGIONS = {"fr": "BJ", "es": "GT"}
# Channels whose sender id is the customer's own phone number, proven by the platform
# (WhatsApp's wa_id): a conversation there counts as verified for that number, and that number only.
NUMBER_PROVING_CHANNELS = tuple(c for c in _env("NUMBER_PROVING_CHANNELS", "whatsapp").split(",") if c)

# --- Card payment gateway (hosted checkout page, signed webhooks) --------------------------------
PAYMENTS_BASE_URL = _env("PAYMENTS_BASE_URL", SANDBOX_URL)
PAYMENTS_SECRET_KEY = _env("PAYMENTS_SECRET_KEY", "sk_test_sandbox")
PAYMENTS_WEBHOOK_SECRET = _env("PAYMENTS_WEBHOOK_SECRET", "whsec_sandbox")
PAYMENTS_WEBHOOK_TOLERANCE_SECONDS = int(_env("PAYMENTS_WEBHOOK_TOLERANCE_SECONDS", "300"))
# Where the hosted payment page sends the customer back after paying or giving up: the web chat page.
PAYMENTS_SUCCESS_URL = _env("PAYMENTS_SUCCESS_URL", "http://127.0.0.1:8080/")
PAYMENTS_CANCEL_URL = _env("PAYMENTS_CANCEL_URL", "http://127.0.0.1:8080/")
# The webhook connector (connectors/payment_webhook.py): a delivery still being handled after this many
# seconds is presumed dead, and a redelivery of the same event takes it over (else it answers 409: retry).
PAYMENTS_WEBHOOK_STALE_CLAIM_SECONDS = int(_env("PAYMENTS_WEBHOOK_STALE_CLAIM_SECONDS", "120"))

# --- Zendesk (tickets, Help Center) through zenpy ------------------------------------------------
ZENDESK_SUBDOMAIN = _env("ZENDESK_SUBDOMAIN", "operator")
ZENDESK_EMAIL = _env("ZENDESK_EMAIL", "bot@operator.example")
ZENDESK_TOKEN = _env("ZENDESK_TOKEN", "sandbox-zendesk-token")
# Empty for the real https://<subdomain>.zendesk.com; a URL sends zenpy there instead (the sandbox).
ZENDESK_URL = _env("ZENDESK_URL", SANDBOX_URL) if os.environ.get("ZENDESK_URL") != "" else ""


# --- Self-service money moves -------------------------------------------------------------------
def _per_market(text: str) -> dict:
    """'BJ:500,1000;GT:10,25' -> {"BJ": [500.0, 1000.0], "GT": [10.0, 25.0]}"""
    found = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        market, _, values = part.partition(":")
        found[market.strip()] = [float(v) for v in values.split(",") if v.strip()]
    return found


# Top-up amounts the operator accepts (min, max) and the ones offered as buttons, per market.
TOPUP_LIMITS = {m: tuple(v) for m, v in _per_market(_env("TOPUP_LIMITS", "BJ:100,100000;GT:5,1000")).items()}
TOPUP_CHOICES = _per_market(_env("TOPUP_CHOICES", "BJ:500,1000,2000,5000;GT:10,25,50,100"))
# A money move still "executing" this long after it was claimed: the action server running it died (several run
# behind the balancer); the next "yes" runs it again with the same Idempotency-Key (actions/dialogue/operations.py).
OPERATION_STALE_SECONDS = int(_env("OPERATION_STALE_SECONDS", "60"))

# --- Meta channels: WhatsApp Cloud API and Messenger (connectors/whatsapp.py, connectors/messenger.py) ----
# Where the connectors send messages: the sandbox records them; production https://graph.facebook.com/v19.0.
META_GRAPH_URL = _env("META_GRAPH_URL", f"{SANDBOX_URL}/graph").rstrip("/")
# Tries of one Graph API call when Meta answers 429 or 5xx (or the connection is refused).
META_GRAPH_ATTEMPTS = int(_env("META_GRAPH_ATTEMPTS", "3"))
# A webhook still being handled after this long is presumed dead: Meta's redelivery takes it over.
META_STALE_CLAIM_SECONDS = int(_env("META_STALE_CLAIM_SECONDS", "120"))
# Both platforms only take free-form messages this long after the customer's last message.
META_WINDOW_HOURS = float(_env("META_WINDOW_HOURS", "24"))
# WhatsApp: the Meta app's webhook verify token (you choose it), its app secret (signs every webhook),
# a system user's access token and the business phone number's id (WhatsApp Manager > API setup).
WHATSAPP_VERIFY_TOKEN = _env("WHATSAPP_VERIFY_TOKEN", "sandbox-whatsapp-verify")
WHATSAPP_APP_SECRET = _env("WHATSAPP_APP_SECRET", "sandbox-whatsapp-app-secret")
WHATSAPP_ACCESS_TOKEN = _env("WHATSAPP_ACCESS_TOKEN", "sandbox-whatsapp-token")
WHATSAPP_PHONE_NUMBER_ID = _env("WHATSAPP_PHONE_NUMBER_ID", "100000000000001")
# Outside the 24-hour window only an approved template may be sent: one with a single body parameter {{1}},
# which carries our text. Its language: empty = the conversation's (fr, es, en), one code ("en_US") for all,
# or one per language ("fr:fr,es:es_MX,en:en_US").
WHATSAPP_TEMPLATE_NAME = _env("WHATSAPP_TEMPLATE_NAME", "operator_update")
WHATSAPP_TEMPLATE_LANGUAGE = os.environ.get("WHATSAPP_TEMPLATE_LANGUAGE", "")
# Messenger: the webhook verify token, the app secret and the Facebook Page's access token.
MESSENGER_VERIFY_TOKEN = _env("MESSENGER_VERIFY_TOKEN", "sandbox-messenger-verify")
MESSENGER_APP_SECRET = _env("MESSENGER_APP_SECRET", "sandbox-messenger-app-secret")
MESSENGER_PAGE_TOKEN = _env("MESSENGER_PAGE_TOKEN", "sandbox-page-token")
# Outside the 24-hour window a Messenger message needs a message tag; ACCOUNT_UPDATE fits a payment
# confirmation or an outage notice (tags may not carry promotions or surveys).
MESSENGER_MESSAGE_TAG = _env("MESSENGER_MESSAGE_TAG", "ACCOUNT_UPDATE")

# --- Outage notices, NPS and conversation outcomes (actions/journeys/report_outage.py, give_feedback.py, actions/outcomes.py; scripts/kpi.py) ---
# The NPS question is asked at most once per customer in this many days (unless they ask to give feedback).
NPS_INTERVAL_DAYS = int(_env("NPS_INTERVAL_DAYS", "30"))
# How long an NPS question or its comment question waits for the answer before a typed number means something else.
NPS_ANSWER_HOURS = int(_env("NPS_ANSWER_HOURS", "24"))
# Rasa's tracker store (the same database as endpoints.yml's tracker_store): `make kpi` counts active users there.
TRACKER_DB_URL = _env("TRACKER_DB_URL", f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa_tracker.db'}")
# A conversation without an outcome is "abandoned" once it has been idle this long (domain.yml's
# session_expiration_time); before that it is still in progress and not counted either way.
CONVERSATION_IDLE_MINUTES = int(_env("CONVERSATION_IDLE_MINUTES", "60"))
# The calendar days of `make kpi` (daily active users...) are days in this time zone.
KPI_TIME_ZONE = _env("KPI_TIME_ZONE", "UTC")

# --- Operator console (console/: the KPI dashboard and the campaign pages) --------------------------------------
CONSOLE_PORT = int(_env("CONSOLE_PORT", "8090"))
# Keys the hash of session tokens kept in the database (scripts/secrets.sh generates it into var/secrets.env).
CONSOLE_SECRET = _env("CONSOLE_SECRET", "change-me-in-production")
# A session ends after this long without a request, and in any case this long after the login.
CONSOLE_SESSION_IDLE_MINUTES = int(_env("CONSOLE_SESSION_IDLE_MINUTES", "30"))
CONSOLE_SESSION_MAX_HOURS = int(_env("CONSOLE_SESSION_MAX_HOURS", "10"))
# Cookies only over HTTPS (browsers also send them to http://localhost); "false" only behind nothing but a test.
CONSOLE_SECURE_COOKIES = _env("CONSOLE_SECURE_COOKIES", "true").lower() != "false"
# Wrong passwords before a name is locked out, and for how long.
CONSOLE_MAX_FAILURES = int(_env("CONSOLE_MAX_FAILURES", "5"))
CONSOLE_LOCK_MINUTES = int(_env("CONSOLE_LOCK_MINUTES", "15"))
# The dashboard's daily aggregate (metrics/daily.py): unfinished days (today, yesterday) are rolled up again
# from the tracker store this often.
KPI_REFRESH_MINUTES = float(_env("KPI_REFRESH_MINUTES", "5"))
# Where Chart.js is (console/package.json, installed by make install with npm ci): served from there, offline.
CONSOLE_NODE_MODULES = Path(_env("CONSOLE_NODE_MODULES", str(PROJECT_ROOT / "console" / "node_modules")))

# --- Zendesk messaging (Sunshine Conversations v2): connectors/zendesk_messaging.py --------------
# Where the bot replies and passes control: the sandbox by default; in production
# https://<subdomain>.zendesk.com/sc (or the legacy https://api.smooch.io).
SUNCO_BASE_URL = _env("SUNCO_BASE_URL", f"{SANDBOX_URL}/sunco")
# Admin Center → Apps and integrations → Conversations API: the app id and an API key (id + secret).
SUNCO_APP_ID = _env("SUNCO_APP_ID", "sandbox-app")
SUNCO_KEY_ID = _env("SUNCO_KEY_ID", "app_sandbox")
SUNCO_KEY_SECRET = _env("SUNCO_KEY_SECRET", "sandbox-sunco-secret")
# The webhook's secret: SunCo sends it in X-API-Key with every delivery.
SUNCO_WEBHOOK_SECRET = _env("SUNCO_WEBHOOK_SECRET", "sandbox-sunco-webhook-secret")
# Who takes over on a handoff (passControl's switchboardIntegration): an id, a name, an integration type,
# or "next" (the switchboard's next integration).
SUNCO_AGENT_INTEGRATION = _env("SUNCO_AGENT_INTEGRATION", "zd:agentWorkspace")
# The bot's own switchboard integration (id or name), to tell when control comes back to it; empty: the
# switchboard's custom integration is the bot.
SUNCO_BOT_INTEGRATION = _env("SUNCO_BOT_INTEGRATION", "")
# Say "I'm back, anything else?" when an agent gives the conversation back to the bot.
SUNCO_SAY_BACK = _env("SUNCO_SAY_BACK", "true").lower() in ("1", "true", "yes")
# A delivery still being handled after this many seconds is presumed dead: a redelivery takes it over.
SUNCO_WEBHOOK_STALE_CLAIM_SECONDS = int(_env("SUNCO_WEBHOOK_STALE_CLAIM_SECONDS", "120"))

# --- Customer care: Help Center answers, tickets, human handoff (actions/journeys/ask_faq.py, create_ticket.py, human_handoff.py) ---
# A Help Center result answers a question only if this share of the question's words is found in the
# article, one of them in its title or labels (else: "nothing found", or "say it another way" on a fallback).
HELP_CENTRE_MIN_COVERAGE = float(_env("HELP_CENTRE_MIN_COVERAGE", "0.5"))
# Tickets Zendesk could not take (down, 429, timeout) wait in the outbox (common/state/care.py); the action
# server retries them every this many seconds (0: no background retries; `python -m actions.zendesk_tickets --flush`).
TICKET_RETRY_SECONDS = int(_env("TICKET_RETRY_SECONDS", "60"))
# The same request from the same conversation within this time is the same ticket (double tap, redelivery).
TICKET_DUPLICATE_MINUTES = int(_env("TICKET_DUPLICATE_MINUTES", "10"))
# Housekeeping (common/state/retention.py, `make prune` or a daily CronJob): rows kept only to de-duplicate
# deliveries or to route the next message are deleted once no platform can redeliver or no customer can answer.
# Tickets sent to Zendesk leave the outbox after TICKET_OUTBOX_RETENTION_DAYS (Zendesk holds them).
DEDUP_RETENTION_DAYS = int(_env("DEDUP_RETENTION_DAYS", "7"))
TICKET_OUTBOX_RETENTION_DAYS = int(_env("TICKET_OUTBOX_RETENTION_DAYS", "30"))
# How many of the latest messages the ticket's transcript (an internal note) keeps.
TICKET_TRANSCRIPT_MESSAGES = int(_env("TICKET_TRANSCRIPT_MESSAGES", "60"))


def _pairs(text: str, separator: str = ",", link: str = ":") -> dict:
    """'vip:high,prepaid:normal' -> {"vip": "high", "prepaid": "normal"}"""
    return {k.strip(): v.strip() for k, _, v in (p.partition(link) for p in text.split(separator) if link in p)}


# Lines and contracts served as VIP (segment "vip": its own priority and agent group): "line:+502...,contract:HG-...".
VIP_SUBJECTS = frozenset(s.strip() for s in _env("VIP_SUBJECTS", "").split(",") if s.strip())
# Ticket priority per segment (prepaid, postpaid, home, vip; unknown = not identified): low, normal, high, urgent.
TICKET_PRIORITIES = _pairs(_env("TICKET_PRIORITIES", "vip:high,postpaid:normal,home:normal,prepaid:normal,unknown:low"))
# Zendesk agent group per segment and language ("segment:language=group id"; * matches any): the most
# specific wins; no match leaves the group to Zendesk's own routing.
ZENDESK_GROUPS = {
    k: int(v)
    for k, v in _pairs(
        _env(
            "ZENDESK_GROUPS",
            "prepaid:fr=360010101,prepaid:es=360010102,prepaid:en=360010103,"
            "postpaid:fr=360010201,postpaid:es=360010202,postpaid:en=360010203,"
            "home:fr=360010301,home:es=360010302,home:en=360010303,vip:*=360010400,"
            "*:fr=360010501,*:es=360010502,*:en=360010503",
        ),
        link="=",
    ).items()
}
# When agents answer, per market, in the market's own time: "BJ:Mon-Fri 08:00-18:00,Sat 09:00-13:00;GT:...".
BUSINESS_HOURS = _env("BUSINESS_HOURS", "BJ:Mon-Fri 08:00-18:00,Sat 09:00-13:00;GT:Mon-Fri 08:00-20:00,Sat 08:00-14:00")
MARKET_TIME_ZONES = _pairs(_env("MARKET_TIME_ZONES", "BJ:Africa/Porto-Novo;GT:America/Guatemala"), separator=";")
# The market of a customer who is not identified and writes in a language no market owns (English).
CARE_DEFAULT_MARKET = _env("CARE_DEFAULT_MARKET", "BJ")
# The Rasa input channel of Zendesk messaging (connectors/zendesk_messaging.py): there a handoff passes
# control to the Agent Workspace instead of opening a ticket.
ZENDESK_MESSAGING_CHANNEL = _env("ZENDESK_MESSAGING_CHANNEL", "zendesk")


# --- Outbound campaigns (campaigns/, common/state/campaigns.py) ---
# Rasa's HTTP API, which delivers a campaign message into a customer's chat conversation (trigger_intent).
RASA_URL = _env("RASA_URL", "http://127.0.0.1:5005").rstrip("/")
RASA_AUTH_TOKEN = _env("RASA_AUTH_TOKEN", "")
# When campaign messages may reach customers, in each market's own time zone (no messages at night).
CAMPAIGN_SENDING_HOURS = _pairs(_env("CAMPAIGN_SENDING_HOURS", "BJ:08:00-20:00;GT:08:00-20:00"), separator=";")
CAMPAIGN_DEFAULT_RATE = int(_env("CAMPAIGN_DEFAULT_RATE", "60"))  # messages a minute per campaign
CAMPAIGN_MAX_ATTEMPTS = int(_env("CAMPAIGN_MAX_ATTEMPTS", "5"))  # a gateway that keeps failing: then failed
CAMPAIGN_CLAIM_SECONDS = int(_env("CAMPAIGN_CLAIM_SECONDS", "120"))  # longest a send may take
# Each channel's pace in messages a minute, over every campaign and every sender together (WhatsApp Cloud API
# starts at 80 messages a second; Kannel's `throughput` is set per SMS centre; Messenger has no published figure).
CAMPAIGN_CHANNEL_RATES = {
    channel: int(rate)
    for channel, rate in _pairs(_env("CAMPAIGN_CHANNEL_RATES", "sms:3000,whatsapp:4800,messenger:600")).items()
}
# WhatsApp's messaging limit: unique customers a business may start a conversation with (a template outside the
# 24-hour window) in a rolling 24 hours: 250, 1000, 10000, 100000 as Meta raises it; 0: unlimited. Beyond it, SMS.
WHATSAPP_MESSAGING_TIER = int(_env("WHATSAPP_MESSAGING_TIER", "1000"))
# Where Kannel calls back with an SMS's delivery report (connectors/sms_delivery.py, reached from the SMS gateway).
SMS_DLR_URL = _env("SMS_DLR_URL", f"{RASA_URL}/webhooks/sms_delivery/report")
# How often the sender asks the NOC for new and resolved incidents (campaigns/outages.py); 0: never.
OUTAGE_POLL_SECONDS = int(_env("OUTAGE_POLL_SECONDS", "60"))
# The contact centre dialer's signed call outcomes (connectors/dialer_webhook.py).
DIALER_WEBHOOK_SECRET = _env("DIALER_WEBHOOK_SECRET", "dialer-sandbox-secret")
DIALER_WEBHOOK_TOLERANCE_SECONDS = int(_env("DIALER_WEBHOOK_TOLERANCE_SECONDS", "300"))
DIALER_STALE_CLAIM_SECONDS = int(_env("DIALER_STALE_CLAIM_SECONDS", "120"))


# --- Voice: the IVR on Twilio Programmable Voice (connectors/twilio_voice.py) ---
# The Twilio account's auth token: it signs every webhook (X-Twilio-Signature); the sandbox signs with this default.
TWILIO_AUTH_TOKEN = _env("TWILIO_AUTH_TOKEN", "sandbox-twilio-auth-token")
# The webhook URL exactly as configured on the Twilio number (the signature covers it): needed behind a proxy or a
# load balancer that changes scheme or host; empty: the URL the request arrived at.
VOICE_WEBHOOK_URL = _env("VOICE_WEBHOOK_URL", "")
# The languages of the IVR's language menu, in the order of their keys (1, 2, ...). fon and bba (Bariba) are
# played from operator-supplied recordings; fr, es and en are spoken by Twilio's text-to-speech.
VOICE_LANGUAGES = tuple(x.strip() for x in _env("VOICE_LANGUAGES", "fr,es,en,fon,bba").split(",") if x.strip())
# Operator-supplied recordings: <dir>/<language>/<prompt>.wav (connectors/voice_prompts.py lists the prompts).
VOICE_RECORDINGS_DIR = Path(_env("VOICE_RECORDINGS_DIR", str(PROJECT_ROOT / "var" / "voice")))
# Twilio's voice per language for <Say> (https://www.twilio.com/docs/voice/twiml/say/text-speech).
VOICE_SAY_LANGUAGES = _pairs(_env("VOICE_SAY_LANGUAGES", "fr:fr-FR,es:es-MX,en:en-US"))
# Speech Twilio recognised with less confidence than this (0-1) is asked again rather than acted on.
VOICE_MIN_SPEECH_CONFIDENCE = float(_env("VOICE_MIN_SPEECH_CONFIDENCE", "0.3"))
# The agent queue (<Enqueue>) per segment and language ("segment:language=queue"; * matches any), as ZENDESK_GROUPS.
VOICE_QUEUES = _pairs(
    _env(
        "VOICE_QUEUES",
        "vip:*=vip,prepaid:fr=prepaid_fr,prepaid:es=prepaid_es,prepaid:en=prepaid_en,"
        "postpaid:fr=postpaid_fr,postpaid:es=postpaid_es,postpaid:en=postpaid_en,"
        "home:*=home,*:fr=general_fr,*:es=general_es,*:en=general_en,*:*=general_fr",
    ),
    link="=",
)
# The TaskRouter workflow that takes the transferred calls (<Enqueue workflowSid>): it routes on the task's
# attributes ({"queue": ..., "segment": ..., "language": ..., "identity": ..., "journey": ...}).
VOICE_WORKFLOW_SID = _env("VOICE_WORKFLOW_SID", "WW00000000000000000000000000000000")
# Where an out-of-hours caller can go on (sent by SMS): the WhatsApp and Messenger addresses of the operator.
WHATSAPP_CHAT_LINK = _env("WHATSAPP_CHAT_LINK", "https://wa.me/22921000000")
MESSENGER_CHAT_LINK = _env("MESSENGER_CHAT_LINK", "https://m.me/operator")
