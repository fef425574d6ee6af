#!/usr/bin/env bash
# Set up and run the offline demo on bundled real snapshots: `scripts/demo.sh [--no-serve]`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
exec "$VENV/bin/newsletter" demo "$@"
