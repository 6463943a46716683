"""What authentication hands to front ends: plain frozen values, no ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from clustermgr.auth.roles import UserRole


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    totp_enabled: bool
    created_at: datetime
    #: What the user may do; through an API token, the lower of the token's and the user's.
    role: UserRole

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "totp_enabled": self.totp_enabled,
            "created_at": self.created_at.isoformat(),
            "role": self.role.value,
        }


@dataclass(frozen=True)
class SessionView:
    """A live browser session. The cookie token itself is never part of a view."""

    user: UserView
    #: Compare with the form's or header's token using ``hmac.compare_digest``.
    csrf_token: str
    expires_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "user": self.user.as_dict(),
            "csrf_token": self.csrf_token,
            "expires_at": self.expires_at.isoformat(),
        }


@dataclass(frozen=True)
class ApiTokenView:
    """An API token's name and use; the token is shown once, at creation, never again."""

    name: str
    created_at: datetime
    last_used: datetime | None
    role: UserRole
    expires_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "created_at": self.created_at.isoformat(),
            "last_used": self.last_used.isoformat() if self.last_used else None,
            "role": self.role.value,
            "expires_at": self.expires_at.isoformat(),
        }
