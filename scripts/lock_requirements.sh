#!/usr/bin/env bash
# Re-pins requirements.txt from requirements.in in a throwaway Python 3.10 venv.
set -euo pipefail
cd "$(dirname "$0")/.."
py=$(scripts/find_python310.sh)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$py" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade "pip==24.3.1" "setuptools<70" wheel
"$tmp/venv/bin/pip" install -q -r requirements.in
{ echo "# Pinned by 'pip freeze' from requirements.in on Python 3.10 (Rasa 3.6 runs on 3.8-3.10)."
  "$tmp/venv/bin/pip" freeze | grep -v -E "^(pip|setuptools|wheel)=="; } > requirements.txt
echo "requirements.txt re-pinned"
