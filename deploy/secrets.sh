#!/usr/bin/env bash
# Creates (or replaces: that is how you rotate) the Kubernetes Secret `assistant-secrets` from your environment.
# No value is ever written to a file in the repository: they come from the environment, or from an env file you
# keep outside git (--env-file), and reach kubectl through a temporary file readable by you only, deleted on exit.
#
#   deploy/secrets.sh [--namespace NS] [--env-file FILE] [--dry-run] [--list-keys]
#     --dry-run    print the Secret kubectl would apply (base64 values) instead of applying it
#     --list-keys  print the keys the manifests expect, one a line, and stop
#
# ASSISTANT_DB_URL and TRACKER_DB_URL are made from DB_PASSWORD (in-cluster PostgreSQL) unless you set them
# (a managed database). Generate a random value with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'
set -euo pipefail

# Every key a manifest reads with secretKeyRef (tests/deploy/test_manifests.py checks both lists agree).
KEYS=(
  RASA_AUTH_TOKEN DB_PASSWORD REDIS_PASSWORD ASSISTANT_DB_URL TRACKER_DB_URL OTP_SECRET
  BSS_CLIENT_SECRET SMS_PASSWORD PAYMENTS_SECRET_KEY PAYMENTS_WEBHOOK_SECRET ZENDESK_TOKEN
  WHATSAPP_VERIFY_TOKEN WHATSAPP_APP_SECRET WHATSAPP_ACCESS_TOKEN
  MESSENGER_VERIFY_TOKEN MESSENGER_APP_SECRET MESSENGER_PAGE_TOKEN
  SUNCO_KEY_SECRET SUNCO_WEBHOOK_SECRET DIALER_WEBHOOK_SECRET TWILIO_AUTH_TOKEN
  CONSOLE_SECRET
)
NAME=assistant-secrets
namespace=""
env_file=""
dry_run=false
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace=$2; shift 2 ;;
    --env-file) env_file=$2; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    --list-keys) printf '%s\n' "${KEYS[@]}"; exit 0 ;;
    *) echo "unknown option: $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done

if [ -n "$env_file" ]; then
  set -a
  # shellcheck disable=SC1090
  source "$env_file"
  set +a
fi

urlquote() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
if [ -n "${DB_PASSWORD:-}" ]; then
  pw=$(urlquote "$DB_PASSWORD")
  ASSISTANT_DB_URL=${ASSISTANT_DB_URL:-postgresql+psycopg2://assistant:$pw@postgres:5432/assistant}
  TRACKER_DB_URL=${TRACKER_DB_URL:-postgresql+psycopg2://assistant:$pw@postgres:5432/rasa}
fi

missing=()
for key in "${KEYS[@]}"; do
  [ -n "${!key:-}" ] || missing+=("$key")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "not set (export them, or put them in a file outside git and pass --env-file): ${missing[*]}" >&2
  exit 1
fi

command -v kubectl >/dev/null || { echo "kubectl is missing" >&2; exit 1; }
tmp=$(umask 077 && mktemp)
trap 'rm -f "$tmp"' EXIT
for key in "${KEYS[@]}"; do
  case "${!key}" in *$'\n'*) echo "$key holds a line break: not allowed in an env file" >&2; exit 1 ;; esac
  printf '%s=%s\n' "$key" "${!key}" >>"$tmp"
done

ns=()
[ -n "$namespace" ] && ns=(--namespace "$namespace")
secret() { kubectl create secret generic "$NAME" "${ns[@]}" --from-env-file="$tmp" --dry-run=client -o yaml; }
if $dry_run; then
  secret
else
  # apply replaces the old values; pods read env at start, so restart them to take the new ones
  secret | kubectl apply "${ns[@]}" -f -
  echo "Secret $NAME applied. To use new values: kubectl ${ns[*]} rollout restart deployment rasa actions ticket-worker campaign-sender"
fi
