"""The architecture tests start the web app as the web tests do (``webfixture``)."""

from __future__ import annotations

import sys
from pathlib import Path

WEB_TESTS = str(Path(__file__).resolve().parents[1] / "web")
if WEB_TESTS not in sys.path:
    sys.path.append(WEB_TESTS)
