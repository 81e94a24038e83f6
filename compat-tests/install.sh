#!/usr/bin/env bash
# Installs the clients compat-tests drive, outside the clone: a Python virtual environment
# with psycopg 3 and SQLAlchemy 2 (pinned in python/requirements.txt). Prints the
# environment's python. Safe to run again: an environment with the pinned set is reused.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${CAIRN_COMPAT_VENV:-$HOME/.cache/cairn-compat-venv}"
stamp="$venv/.requirements"
if ! cmp -s "$here/python/requirements.txt" "$stamp" 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/python/requirements.txt" >&2
  cp "$here/python/requirements.txt" "$stamp"
fi
echo "$venv/bin/python"
