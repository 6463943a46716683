"""What a user may do: three roles, each allowed what the one below it is, and more.

========  ==================================================================
viewer    reads every page and API route; starts no job (a job opens root
          SSH sessions on the servers), changes nothing but its own account
operator  also starts plans, applies and status checks, drains and undrains
          nodes, rolling restarts, LDAP comparisons; cancels jobs
admin     also adds, changes and removes servers (and their SSH keys),
          changes the load balancer's settings and certificate, re-initialises
          LDAP nodes, and manages users and their tokens
========  ==================================================================

Services check the role they are given with :func:`require`; the web and API
layers pass the signed-in user's (a token's role is at most its owner's).  The
CLI runs as root on the manager's machine, with the database and the key in
reach: it acts as admin.
"""

from __future__ import annotations

from enum import StrEnum

from clustermgr.errors import Forbidden, InvalidInput


class UserRole(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: UserRole) -> bool:
        """True when this role may do what ``needed`` may."""
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, value: str) -> UserRole:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise InvalidInput(
                f"unknown role {value!r}", hint=f"one of: {', '.join(r.value for r in cls)}"
            ) from None


_RANKS = {UserRole.VIEWER: 0, UserRole.OPERATOR: 1, UserRole.ADMIN: 2}


def lower(a: UserRole, b: UserRole) -> UserRole:
    """The less powerful of two roles."""
    return a if a.rank <= b.rank else b


def require(role: UserRole, needed: UserRole, what: str) -> None:
    """Refuse with :class:`Forbidden` unless ``role`` may do what ``needed`` may."""
    if not role.allows(needed):
        raise Forbidden(
            f"{what} needs the {needed.value} role; you have {role.value}",
            hint="ask an admin: `clustermgr admin role USER ROLE` on the manager's machine",
        )
