#!/usr/bin/env bash
# Type-check the tests, one folder at a time: pytest imports each folder's
# conftest.py and helper modules by their file name, so two folders' conftest
# modules would clash in one mypy run.
set -euo pipefail
cd "$(dirname "$0")/.."
export MYPYPATH=tests:tests/architecture:tests/integration:tests/web:tests/lab/gluu:tests/unit/facts
status=0
while read -r dir; do
  mapfile -t files < <(find "$dir" -maxdepth 1 -name '*.py' | sort)
  [ ${#files[@]} -gt 0 ] || continue
  .venv/bin/mypy --explicit-package-bases --no-error-summary "${files[@]}" || status=1
done < <(find tests -type d -not -name __pycache__ | sort)
exit $status
