#!/usr/bin/env bash
# Installs a Java runtime and pgjdbc from Debian (libpostgresql-jdbc-java) when missing and
# prints the driver's jar.
set -euo pipefail
jar=/usr/share/java/postgresql.jar
if ! command -v java >/dev/null || [ ! -f "$jar" ]; then
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
  $sudo_ apt-get install -y -q default-jre-headless libpostgresql-jdbc-java >&2
fi
echo "$jar"
