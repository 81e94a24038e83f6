#!/usr/bin/env bash
# Installs node-postgres (pinned in package.json) outside the clone and prints the
# node_modules directory to use as NODE_PATH. Installs Node.js from Debian when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
prefix="${CAIRN_COMPAT_NODE:-$HOME/.cache/cairn-compat-node}"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get install -y -q nodejs npm >&2
fi
mkdir -p "$prefix"
if ! cmp -s "$here/package.json" "$prefix/package.json" 2>/dev/null || [ ! -d "$prefix/node_modules/pg" ]; then
  cp "$here/package.json" "$prefix/package.json"
  (cd "$prefix" && npm install --no-audit --no-fund --silent >&2)
fi
echo "$prefix/node_modules"
