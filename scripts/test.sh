#!/usr/bin/env bash
# The test suite: lint, types, unit and integration tests (real sshd, real
# PostgreSQL). Run as root on Debian 12. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
CLUSTERMGR_TEST_PG_URL=$(scripts/postgres.sh)
export CLUSTERMGR_TEST_PG_URL
.venv/bin/ruff check src tests benchmarks
.venv/bin/ruff format --check src tests benchmarks
.venv/bin/mypy
scripts/mypy-extra.sh
exec .venv/bin/pytest "$@"
