"""Tables of authentication. Tokens are stored as SHA-256 digests, never as issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clustermgr.db.base import Base, Timestamped, UTCDateTime


class User(Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    #: argon2id hash (argon2-cffi's encoded form).
    password_hash: Mapped[str] = mapped_column(String(255))
    #: The TOTP secret sealed by the vault, once the user enrolled; None otherwise.
    totp_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: viewer, operator or admin (:class:`~clustermgr.auth.roles.UserRole`).
    role: Mapped[str] = mapped_column(String(16))


class WebSession(Timestamped, Base):
    """A browser session, server side: the cookie carries a random token only."""

    __tablename__ = "web_sessions"

    #: SHA-256 hex digest of the cookie's token.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Timestamped, Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    #: SHA-256 hex digest of the token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: What the token may do: at most its owner's role (the lower of the two counts).
    role: Mapped[str] = mapped_column(String(16))
    #: The token is refused from then on.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginFailure(Base):
    """One failed login, for throttling by user name and by client address."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class KnownClient(Base):
    """An address a user signed in from: the user-name throttle lets it through."""

    __tablename__ = "login_known_clients"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success: Mapped[datetime] = mapped_column(UTCDateTime())
