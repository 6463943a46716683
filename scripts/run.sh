#!/usr/bin/env bash
# The main job: install, prepare the inventory database, show the inventory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/clustermgr db upgrade
.venv/bin/clustermgr server list
