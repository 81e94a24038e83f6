#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks, builds Cairn and starts it on its embedded
# default: data in ./cairn-data, PostgreSQL wire protocol on 127.0.0.1:5433, REST API on
# 127.0.0.1:8080.
# Extra arguments go to `cairn serve` (see `cairn serve --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
command -v curl >/dev/null 2>&1 || missing+=(curl ca-certificates)
# psql, to connect as the README shows.
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  export PATH="$HOME/.cargo/bin:$PATH"
fi
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cairn-target}"
cargo build --release -p cairn-server
echo "connect with: psql -h 127.0.0.1 -p 5433 -U cairn cairn (REST API: http://127.0.0.1:8080/v1/orgs/self)"
exec "$CARGO_TARGET_DIR/release/cairn" serve "$@"
