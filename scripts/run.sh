#!/usr/bin/env bash
# Starts the operator sandbox (5080), the action server (5055), Rasa (5005: rest + socketio), the web chat page (8080)
# and the operator console (CONSOLE_PORT, 8090);
# Ctrl-C stops them all. With --shell, a terminal chat replaces Rasa's server and the page.
# Rasa's HTTP API needs RASA_AUTH_TOKEN (scripts/secrets.sh: from the environment or var/secrets.env).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
MODEL=models/assistant.tar.gz
mkdir -p var logs
source scripts/secrets.sh
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "stopped."
}
trap stop INT TERM EXIT

wait_for() {  # url, name, seconds
  for _ in $(seq "$3"); do
    curl -fs "$1" >/dev/null 2>&1 && { echo "  $2 ready: $1"; return 0; }
    sleep 1
  done
  echo "  $2 did not answer on $1 within $3 s: see logs/" >&2; return 1
}

# The hosted payment page's signed webhooks go to Rasa's payment connector (connectors/payment_webhook.py).
SANDBOX_PAYMENT_WEBHOOK_URL=${SANDBOX_PAYMENT_WEBHOOK_URL:-http://localhost:5005/webhooks/payment_webhook/webhook} \
  $BIN/python -m sandbox --port 5080 >logs/sandbox.log 2>&1 & pids+=($!)
wait_for http://localhost:5080/health "operator sandbox" 60
$BIN/rasa run actions --port 5055 >logs/actions.log 2>&1 & pids+=($!)
# Tickets Zendesk could not take yet are retried by this worker (and by the action server once it opens one).
$BIN/python -m actions.zendesk_tickets --watch >logs/tickets.log 2>&1 & pids+=($!)
# Campaign messages whose time has come (python -m campaigns; it speaks into chats through Rasa's API).
RASA_URL=http://localhost:5005 $BIN/python -m campaigns send --watch >logs/campaigns.log 2>&1 & pids+=($!)
wait_for http://localhost:5055/health "action server" 60

if [ "${1:-}" = "--shell" ]; then
  # The terminal chat posts to Rasa's REST webhook without namespacing the sender: only this machine may reach it.
  $BIN/rasa shell --model "$MODEL" --endpoints endpoints.yml --interface 127.0.0.1 --auth-token="$RASA_AUTH_TOKEN"
  exit 0
fi

$BIN/rasa run --model "$MODEL" --enable-api --auth-token="$RASA_AUTH_TOKEN" --cors "*" --port 5005 \
  --credentials credentials.yml --endpoints endpoints.yml >logs/rasa.log 2>&1 & pids+=($!)
$BIN/python webchat/server.py --port 8080 --socket-url "http://localhost:5005" >logs/webchat.log 2>&1 & pids+=($!)
wait_for http://localhost:8080/health "web chat" 30
CONSOLE_PORT=${CONSOLE_PORT:-8090}
$BIN/python -m console serve --port "$CONSOLE_PORT" >logs/console.log 2>&1 & pids+=($!)
wait_for "http://localhost:$CONSOLE_PORT/health" "operator console" 30
wait_for http://localhost:5005/ "Rasa" 180

cat <<MSG

  Web chat:        http://localhost:8080
  Operator console: http://localhost:$CONSOLE_PORT  (first admin: .venv/bin/python -m console add-user NAME --role admin)
  REST channel:    POST http://localhost:5005/webhooks/rest/webhook  {"sender": "me", "message": "hola"}
                   (trusted front ends only; the conversation is rest:me)
  Rasa HTTP API:   http://localhost:5005/status?token=...  (needs RASA_AUTH_TOKEN: var/secrets.env or the environment)
  Action server:   http://localhost:5055/health
  Operator sandbox: http://localhost:5080  (SMS outbox: /_sandbox/sms?to=%2B2290197000001)
  Logs:            logs/

Press Ctrl-C to stop everything.
MSG
wait -n "${pids[@]}"
echo "a service stopped unexpectedly: see logs/" >&2
