#!/usr/bin/env bash
# Set up everything the tests need (venv, packages) and run them: `scripts/test.sh [pytest args]`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh

# Browser tests drive Debian's Chromium with Noto CJK fonts (never a downloaded browser).
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and fonts-noto-cjk (apt)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "warning: /usr/bin/chromium or Noto CJK fonts missing; browser tests will be skipped" >&2
  fi
fi

exec "$VENV/bin/python" -m pytest "$@"
