#!/usr/bin/env bash
# Set up everything the tests need (venv, packages) and run them: `scripts/test.sh [pytest args]`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

# Browser tests drive Debian's Chromium with Noto CJK fonts (never a downloaded browser);
# the SMTPS test makes a throwaway certificate with openssl.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || ! command -v openssl >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium, fonts-noto-cjk and openssl (apt)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk openssl >/dev/null
  else
    echo "warning: chromium, Noto CJK fonts or openssl missing: their tests skip (and fail under CI)" >&2
  fi
fi

exec "$VENV/bin/python" -m pytest "$@"
