# Sourced by scripts/run.sh (and any other profile that starts Rasa): exports RASA_AUTH_TOKEN, the token of
# Rasa's HTTP API (`rasa run --auth-token`), and CONSOLE_SECRET, the key of the operator console's session hashes.
# Each from the environment if set, else from var/secrets.env (gitignored), else generated once into
# var/secrets.env (mode 600). Rotate: delete or edit that file (or set the variable), restart.
SECRETS_FILE=${SECRETS_FILE:-var/secrets.env}

if [ -z "${RASA_AUTH_TOKEN:-}" ] && [ -f "$SECRETS_FILE" ]; then
  RASA_AUTH_TOKEN=$(sed -n 's/^RASA_AUTH_TOKEN=//p' "$SECRETS_FILE" | tail -n 1)
fi
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  mkdir -p "$(dirname "$SECRETS_FILE")"
  RASA_AUTH_TOKEN=$("${PYTHON:-.venv/bin/python}" -c 'import secrets; print(secrets.token_urlsafe(32))')
  # umask first: the token is never readable by others, not even for an instant
  (umask 077 && echo "RASA_AUTH_TOKEN=$RASA_AUTH_TOKEN" >>"$SECRETS_FILE")
  chmod 600 "$SECRETS_FILE"
  echo "  Generated Rasa's API token: it is in $SECRETS_FILE (RASA_AUTH_TOKEN), send it as ?token=..."
fi
export RASA_AUTH_TOKEN

if [ -z "${CONSOLE_SECRET:-}" ] && [ -f "$SECRETS_FILE" ]; then
  CONSOLE_SECRET=$(sed -n 's/^CONSOLE_SECRET=//p' "$SECRETS_FILE" | tail -n 1)
fi
if [ -z "${CONSOLE_SECRET:-}" ]; then
  CONSOLE_SECRET=$("${PYTHON:-.venv/bin/python}" -c 'import secrets; print(secrets.token_urlsafe(32))')
  (umask 077 && echo "CONSOLE_SECRET=$CONSOLE_SECRET" >>"$SECRETS_FILE")
  chmod 600 "$SECRETS_FILE"
fi
export CONSOLE_SECRET
