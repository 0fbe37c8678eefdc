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

# Where customers reach a person until the Zendesk handoff is connected.
CARE_PHONE = _env("CARE_PHONE", "121")

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
