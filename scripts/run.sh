#!/usr/bin/env bash
# The main job: install what is needed, bring the lab up (registered in the
# inventory as cluster "lab"), and run the preflight check on every lab host.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/clustermgr lab up
.venv/bin/clustermgr server check --cluster lab
echo "the lab is up: .venv/bin/clustermgr lab status | lab exec idp1 -- bash | lab down" >&2
