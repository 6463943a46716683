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
# Two sessions side by side, each module kept on one (its lab comes up once): every
# session takes its own lab slot, PostgreSQL database and ports (tests/support/labfixture).
# Arguments given here come after, and win (`-n 0`: one session).
exec .venv/bin/pytest -n 2 --dist loadfile "$@"
