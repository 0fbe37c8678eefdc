#!/usr/bin/env bash
# Prints the path of a Python 3.10 interpreter (Rasa 3.6 runs on 3.8-3.10 only), or explains what is missing.
set -u
candidates=("${PYTHON310:-}" python3.10)
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.|$)'); do
    candidates+=("$(pyenv root)/versions/$v/bin/python")
  done
fi
candidates+=("$HOME"/.pyenv/versions/3.10*/bin/python /usr/bin/python3.10 /usr/local/bin/python3.10)
for c in "${candidates[@]}"; do
  [ -n "$c" ] || continue
  path=$(command -v "$c" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; then
    echo "$path"; exit 0
  fi
done
cat >&2 <<'MSG'
No Python 3.10 found. Rasa 3.6 needs Python 3.8-3.10 (this machine's default is newer).
Install one, then run make again, e.g.:
  pyenv install 3.10      (then it is found automatically)
  apt-get install python3.10 python3.10-venv
or point PYTHON310=/path/to/python3.10 at an existing one.
MSG
exit 1
