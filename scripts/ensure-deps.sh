#!/usr/bin/env bash
# ensure-deps.sh -- make sure the Debian packages pg_llm builds and tests with are
# present. As root, installs the missing ones (apt-get update first); otherwise
# prints the command to run and fails. A no-op when everything is installed.
set -euo pipefail

PKGS=(postgresql-15 postgresql-server-dev-15 libopenblas-dev libcjson-dev
      libpcre2-dev libutf8proc-dev build-essential pkg-config)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "pg_llm: missing Debian packages: ${missing[*]}" >&2
	echo "pg_llm: run as root, or: sudo apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "pg_llm: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
