#!/usr/bin/env bash
# Type-check what `mypy` (the clustermgr package) leaves out: the benchmarks (which may
# use the tests' lab harness), and
# the tests one folder at a time (test modules of two folders may share a file
# name: pytest imports them by path, so they are not one package).
set -euo pipefail
cd "$(dirname "$0")/.."
export MYPYPATH=tests/support
status=0
MYPYPATH=benchmarks:tests/support .venv/bin/mypy --explicit-package-bases --no-error-summary benchmarks/*.py || status=1
while read -r dir; do
  mapfile -t files < <(find "$dir" -maxdepth 1 -name '*.py' | sort)
  [ ${#files[@]} -gt 0 ] || continue
  .venv/bin/mypy --explicit-package-bases --no-error-summary "${files[@]}" || status=1
done < <(find tests -type d -not -name __pycache__ | sort)
exit $status
