#!/usr/bin/env bash
# The main job: install what is needed, bring the lab up (registered in the
# inventory as cluster "lab"), preflight-check it, then serve the web GUI and
# the REST API. The URL and how to sign in are printed; Ctrl-C stops the GUI
# (the lab keeps running: `.venv/bin/clustermgr lab down` removes it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/clustermgr lab up
.venv/bin/clustermgr server check --cluster lab || true
exec .venv/bin/clustermgr serve --host "${CLUSTERMGR_HOST:-127.0.0.1}" --port "${CLUSTERMGR_PORT:-8000}"
