"""oxAuth's log files, as log4j writes them on a real node.

The loggers carry the Java class names Gluu's own logs show, and the formatter
copies log4j's layout, so whatever reads or greps a node's ``oxauth.log`` and
``oxauth_audit.log`` (operators, the manager's log views, tests) sees the same lines
on a lab host as on a Gluu one.
"""

from __future__ import annotations

import logging
import logging.handlers
import os

from .paths import OXAUTH_AUDIT_LOG, OXAUTH_LOG

log = logging.getLogger("org.gluu.oxauth.service.AppInitializer")
cache_log = logging.getLogger("org.gluu.service.cache.CacheService")
auth_log = logging.getLogger("org.gluu.oxauth.auth.Authenticator")
ldap_log = logging.getLogger("org.gluu.persist.ldap.operation.LdapOperationService")
http_log = logging.getLogger("org.eclipse.jetty.server.RequestLog")
audit_log = logging.getLogger("org.gluu.oxauth.audit.ApplicationAuditLogger")


class Log4jFormatter(logging.Formatter):
    """``2026-11-27 00:10:00,123 INFO  [qtp1-3] [org.gluu...] (File.java:123) - message``."""

    LEVELS = {"WARNING": "WARN", "CRITICAL": "FATAL"}

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(level4j)-5s [%(threadName)s] [%(name)s] (%(javafile)s:%(lineno)d)"
            " - %(message)s"
        )

    def format(self, record: logging.LogRecord) -> str:
        record.level4j = self.LEVELS.get(record.levelname, record.levelname)
        record.javafile = record.name.rsplit(".", 1)[-1] + ".java"
        return super().format(record)


def setup_logging(log_dir: str) -> None:
    """oxauth.log gets everything under ``org``; oxauth_audit.log only the audit logger."""
    os.makedirs(log_dir, exist_ok=True)
    for name, path in (("org", OXAUTH_LOG), (audit_log.name, OXAUTH_AUDIT_LOG)):
        handler = logging.handlers.WatchedFileHandler(os.path.join(log_dir, path))
        handler.setFormatter(Log4jFormatter())
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False
