#!/bin/sh
# Rasa's HTTP API always needs a token (README, "Ports, what to expose, and secrets"): no token, no start.
# The token comes from the environment (a Kubernetes Secret, or docker compose's env file), never from the image.
set -eu
if [ -z "${RASA_AUTH_TOKEN:-}" ]; then
  echo "RASA_AUTH_TOKEN is not set: refusing to start Rasa's HTTP API without a token" >&2
  exit 64
fi
exec rasa run --model /app/models/assistant.tar.gz --enable-api --auth-token="$RASA_AUTH_TOKEN" --port 5005 \
  --credentials /app/credentials.yml --endpoints /app/endpoints.yml "$@"
