"""Every setting of the BSS sandbox, read from the environment here and nowhere else."""

import os


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


# OAuth2 client credentials the API gateway accepts (HTTP Basic on POST /oauth/token).
CLIENT_ID = _env("SANDBOX_BSS_CLIENT_ID", "assistant")
CLIENT_SECRET = _env("SANDBOX_BSS_CLIENT_SECRET", "sandbox-secret")
TOKEN_TTL_SECONDS = int(_env("SANDBOX_BSS_TOKEN_TTL", "3600"))
# Signs access tokens (JWT HS256) and the bill-document links handed to customers.
SIGNING_KEY = _env("SANDBOX_BSS_SIGNING_KEY", "sandbox-bss-signing-key")

# What each market sells in, where it lives, and how much one top-up may be (minor units: 1/100).
MARKETS = {
    "BJ": {
        "currency": "XOF",
        "country": "Benin",
        "timeZone": "Africa/Porto-Novo",
        "utc_offset_hours": 1,
        "topup_min": 100_00,
        "topup_max": 100_000_00,
    },
    "GT": {
        "currency": "GTQ",
        "country": "Guatemala",
        "timeZone": "America/Guatemala",
        "utc_offset_hours": -6,
        "topup_min": 5_00,
        "topup_max": 1_000_00,
    },
}
LOAN_FEE_PCT = 10  # service fee added to the debt of every advance
APPOINTMENT_SLOT_MINUTES = 30
APPOINTMENT_HORIZON_DAYS = 7
