#!/usr/bin/env bash
# The production profile (scripts/cluster.py): `run` in the foreground (make run-cluster), `up` in the background
# once ready, `down` stops it. CLUSTER_BASE_PORT and CLUSTER_DIR say where it listens and keeps its files.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python scripts/cluster.py "${1:-run}"
