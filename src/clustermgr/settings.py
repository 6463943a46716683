"""Typed settings, read from the environment (prefix ``CLUSTERMGR_``).

Everything has a default that works on a single machine: a data folder holding
the SQLite database, and the secret key file beside it (outside the database,
readable by its owner only).  The data folder is the manager's alone: it is
created 0700, and :func:`secure_data_dir` takes group and others' access away
from one that has it.  Point ``CLUSTERMGR_DATABASE_URL`` at PostgreSQL to
share one inventory between several managers.
"""

from __future__ import annotations

import logging
import os
import stat
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

log = logging.getLogger(__name__)

#: Permission bits of group and others: none of the manager's files has any.
NOT_PRIVATE = stat.S_IRWXG | stat.S_IRWXO


def _default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/clustermgr")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "clustermgr"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLUSTERMGR_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    #: SQLAlchemy URL. Default: ``sqlite:///<data_dir>/clustermgr.db``.
    database_url: str | None = None
    #: Fernet key encrypting credentials at rest. Default: ``<data_dir>/secret.key``.
    secret_key_file: Path | None = None
    #: Seconds SQLite waits for a lock before reporting the database as locked.
    db_busy_timeout: float = 5.0
    connect_timeout: float = 10.0
    command_timeout: float = 300.0
    #: How many hosts are contacted at once.
    parallel_hosts: int = 20
    #: Redis URL of the job queue. Unset: jobs run inside the manager process.
    #: Set: the manager queues them and `clustermgr worker` processes run them.
    queue_url: str | None = None
    #: `clustermgr serve` runs the replication watcher in the background.
    watch_enabled: bool = True
    #: Seconds between the starts of two watcher cycles.
    watch_interval: float = 5.0
    #: Seconds one check of one node may take (SSH connect and each command).
    watch_timeout: float = 4.0
    #: Seconds a node's check of one agreement may wait for the provider (connect, bind).
    watch_agreement_timeout: float = 1.0
    #: Seconds a probe write may take to reach every other node.
    watch_probe_timeout: float = 3.0
    #: Seconds a node may stay behind a peer whose agreement checks ok before
    #: the watcher reports the pair as diverging.
    watch_divergence_after: float = 30.0
    #: Compare the nodes' data (counts and digests) every this many cycles, when
    #: replication is at rest; 0 turns it off.  Each comparison reads every entry.
    watch_compare_every: int = 2
    #: Seconds between two checks of a cluster's files (a digest per node and file).
    watch_files_interval: float = Field(default=60.0, ge=1)
    #: Samples older than this many days are pruned.
    monitor_retention_days: float = 7.0
    #: Seconds between two scrapes of a cluster's exporters, unless the cluster's
    #: ``metrics`` settings say otherwise.
    metrics_scrape_seconds: float = Field(default=10.0, ge=1)
    #: Seconds a server may stay unreachable before its alert is critical.
    metrics_unreachable_after: float = Field(default=30.0, ge=0)
    #: How long the series store keeps raw points (hours), 1-minute roll-ups (days)
    #: and 1-hour roll-ups (days).
    metrics_raw_hours: float = Field(default=48.0, gt=0)
    metrics_minute_days: float = Field(default=30.0, gt=0)
    metrics_hour_days: float = Field(default=365.0, gt=0)
    #: A VictoriaMetrics (``http://host:8428``): the series go there instead of the
    #: manager's database, and are read back from it.  Unset: the embedded store.
    metrics_url: str | None = None
    #: Seconds one network operation of a notification may take (connect, each reply).
    notify_timeout: float = Field(default=10.0, gt=0)
    #: Messages one notification channel gets in any minute at most; more wait their turn.
    notify_per_minute: int = Field(default=20, ge=1)
    #: The manager's address as people reach it (https://manager.example.org): messages
    #: link to the cluster's alerts page under it.  Unset: no link.
    notify_link_base: str | None = None
    #: Jobs one user may have queued or running at once.
    jobs_per_user: int = Field(default=10, ge=1)
    #: Jobs queued or running at once in the manager's database, every user together.
    jobs_active: int = Field(default=40, ge=1)
    #: Job event streams (SSE) one user may follow at once on one manager process.
    streams_per_user: int = Field(default=8, ge=1)
    #: Hours a web session lives at most from sign-in, however busy (the idle limit
    #: is shorter: 12 hours after the last request).
    session_max_hours: float = Field(default=24.0, gt=0)
    #: Addresses of reverse proxies whose ``X-Forwarded-For``/``-Proto`` headers
    #: `clustermgr serve` believes (comma-separated).  Empty: none, every client
    #: is the address that connected.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    #: Host names (or addresses) the web app answers to besides localhost,
    #: 127.0.0.1 and ::1 (comma-separated); requests naming another host get 400.
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("metrics_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        url = value.strip().rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ValueError("CLUSTERMGR_METRICS_URL must be an http:// or https:// URL")
        return url

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'clustermgr.db'}"

    @cached_property
    def effective_secret_key_file(self) -> Path:
        return self.secret_key_file or self.data_dir / "secret.key"


def make_private(path: Path, what: str) -> None:
    """Take group and others' access away from ``path``, if it exists, with a warning."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & NOT_PRIVATE:
        return
    try:
        path.chmod(mode & ~NOT_PRIVATE)
    except OSError as exc:
        log.warning(
            "%s %s is open to group or others (mode %04o) and cannot be tightened: %s",
            what,
            path,
            mode,
            exc.strerror,
        )
        return
    log.warning(
        "%s %s was open to group or others (mode %04o): now %04o",
        what,
        path,
        mode,
        mode & ~NOT_PRIVATE,
    )


def secure_data_dir(settings: Settings) -> None:
    """Make an existing data folder the manager's alone (it is created 0700 where needed)."""
    make_private(settings.data_dir, "data folder")
