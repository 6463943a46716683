"""Facts: read-only questions about a server's state.

Each module pairs the command that reads one kind of state with a pure parser
of its output (see :mod:`clustermgr.facts.base`).  Operations decide what to
change from facts; they never parse command output themselves.
"""

from clustermgr.facts.base import Fact, FactParseError, gather

__all__ = ["Fact", "FactParseError", "gather"]
