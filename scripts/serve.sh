#!/usr/bin/env bash
# Install and run the service on the embedded default: no Redis, one process, http://127.0.0.1:8000/.
# Mission edits persist under YURT_DATA_DIR (default ./var); traveller presence and meetups live in memory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh requirements.txt
exec .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app
