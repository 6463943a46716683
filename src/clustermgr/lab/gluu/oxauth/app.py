"""What the endpoints do, apart from HTTP: routes, login, sessions, tokens, the audit log.

The endpoints are the ones clustermgr and the load balancer use: discovery (the
issuer proves which hostname a node answers for), health-check (LDAP reachable or
not), login against the node's LDAP, and reading a session back from the cache,
which is how the lab shows that another node sees it.  A login also returns a
signed token (:mod:`.tokens`) that any node whose keystore holds its key accepts:
``jwks`` publishes the keystore's public keys, ``introspection`` says whether a
token is valid here.  It is not an OpenID provider: discovery names endpoints that
do not exist here.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from .cache import CacheService
from .keys import Keystore, KeystoreError, KeystoreFile
from .ldap import Ldap, LdapError
from .ldif import escape_filter
from .logs import audit_log, auth_log, ldap_log, log
from .messages import (
    AppError,
    BadRequest,
    InvalidCredentials,
    MethodNotAllowed,
    NotFound,
    Request,
    Response,
    Unavailable,
)
from .stores import CacheUnavailable
from .tokens import DEFAULT_LIFETIME, InvalidToken, issue, validate

RESPONSE_TYPES = ["code", "id_token", "token", "code id_token", "code token", "id_token token"]
GRANT_TYPES = ["authorization_code", "implicit", "refresh_token", "client_credentials", "password"]
TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
SESSION_PATH = re.compile(r"/oxauth/restv1/session/([A-Za-z0-9._-]{1,128})")
DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/oxauth/.well-known/openid-configuration")
JWKS_PATH = "/oxauth/restv1/jwks"
INTROSPECTION_PATH = "/oxauth/restv1/introspection"


class OxAuth:
    """What the endpoints do, apart from HTTP: ``handle(Request) -> Response``."""

    def __init__(
        self,
        *,
        ldap: Ldap,
        cache: CacheService,
        suffix: str,
        issuer_host: str,
        node: str,
        keys: KeystoreFile,
        token_lifetime: int = DEFAULT_LIFETIME,
    ) -> None:
        self.ldap, self.cache, self.suffix = ldap, cache, suffix
        self.issuer = f"https://{issuer_host}"
        self.node = node
        self.keys, self.token_lifetime = keys, token_lifetime

    def handle(self, request: Request) -> Response:
        try:
            return self._route(request)
        except AppError as exc:
            return Response(exc.status, {"error": exc.error, "error_description": exc.description})
        except Exception:
            log.exception("Unexpected error serving %s %s", request.method, request.path)
            return Response(500, {"error": "server_error", "error_description": "internal error"})

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        session = SESSION_PATH.fullmatch(path)
        if path in DISCOVERY_PATHS:
            _expect(method, "GET")
            return Response(200, self.discovery())
        if path == "/oxauth/restv1/health-check":
            _expect(method, "GET")
            return self.health()
        if path == "/oxauth/restv1/login":
            _expect(method, "POST")
            username, password = _credentials(request)
            return Response(200, self.login(username, password, request.client_ip))
        if path == JWKS_PATH:
            _expect(method, "GET")
            return Response(200, self.keystore().jwks())
        if path == INTROSPECTION_PATH:
            _expect(method, "POST")
            token = _fields(request).get("token")
            if not isinstance(token, str) or not token:
                raise BadRequest("token is required")
            return Response(200, self.introspect(token))
        if session:
            _expect(method, "GET")
            return Response(200, self.session(session.group(1)))
        raise NotFound(f"no resource at {path}")

    def discovery(self) -> dict[str, Any]:
        rest = f"{self.issuer}/oxauth/restv1"
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{rest}/authorize",
            "token_endpoint": f"{rest}/token",
            "userinfo_endpoint": f"{rest}/userinfo",
            "clientinfo_endpoint": f"{rest}/clientinfo",
            "check_session_iframe": f"{self.issuer}/oxauth/opiframe.htm",
            "end_session_endpoint": f"{rest}/end_session",
            "jwks_uri": f"{rest}/jwks",
            "registration_endpoint": f"{rest}/register",
            "introspection_endpoint": f"{rest}/introspection",
            "response_types_supported": RESPONSE_TYPES,
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": GRANT_TYPES,
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256", "RS384", "RS512", "ES256"],
            "scopes_supported": [
                "openid",
                "profile",
                "email",
                "address",
                "phone",
                "offline_access",
            ],
            "token_endpoint_auth_methods_supported": TOKEN_AUTH_METHODS,
            "claims_supported": ["sub", "name", "given_name", "family_name", "email", "uid"],
        }

    def health(self) -> Response:
        try:
            self.ldap.search(self.suffix, "base", "(objectClass=*)", ["1.1"])
        except LdapError as exc:
            ldap_log.error("Health check: LDAP is not available: %s", exc)
            return Response(503, {"status": "running", "db_status": "offline"})
        return Response(200, {"status": "running", "db_status": "online"})

    def login(self, username: str, password: str, client_ip: str) -> dict[str, Any]:
        audit = _Audit(username, client_ip, self.node)
        try:
            dn = self._authenticate(username, password)
            keystore = self.keystore()
            store = self.cache.store()
            session = self._new_session(username, dn, client_ip, store.ttl)
            store.save(session)
        except InvalidCredentials as exc:
            audit.failure(str(exc))
            raise
        except (LdapError, CacheUnavailable) as exc:
            auth_log.error("Login of %s failed: %s", json.dumps(username), exc)
            audit.failure("service unavailable")
            raise Unavailable(str(exc)) from exc
        except Unavailable:
            audit.failure("service unavailable")
            raise
        token = issue(
            keystore,
            issuer=self.issuer,
            subject=username,
            lifetime=self.token_lifetime,
            claims={"sid": session["session_id"]},
        )
        audit.success(session["session_id"])
        auth_log.info(
            "Authenticated %s, session %s in %s",
            json.dumps(username),
            session["session_id"],
            store.provider,
        )
        return {
            "session_id": session["session_id"],
            "node": self.node,
            "cache": store.provider,
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }

    def keystore(self) -> Keystore:
        try:
            return self.keys.current()
        except KeystoreError as exc:
            raise Unavailable(f"no signing keys: {exc}") from exc

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662's answer: ``active`` and the claims of a token valid on this node."""
        try:
            claims = validate(self.keystore(), token, issuer=self.issuer)
        except InvalidToken as exc:
            auth_log.info("Token refused: %s", exc)
            return {"active": False}
        return {"active": True, "token_type": "Bearer", **claims}

    def _authenticate(self, username: str, password: str) -> str:
        people = self.ldap.search(
            f"ou=people,{self.suffix}",
            "one",
            f"(&(objectClass=gluuPerson)(uid={escape_filter(username)}))",
            ["uid", "gluuStatus"],
        )
        if len(people) != 1:
            raise InvalidCredentials("unknown user or wrong password")
        status = people[0].first("gluuStatus")
        if status is not None and status.lower() != "active":
            raise InvalidCredentials("user is not active")
        if not self.ldap.credentials_valid(people[0].dn, password):
            raise InvalidCredentials("unknown user or wrong password")
        return people[0].dn

    def _new_session(self, user: str, dn: str, client_ip: str, ttl: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {
            "session_id": str(uuid.uuid4()),
            "user": user,
            "user_dn": dn,
            "node": self.node,
            "client_ip": client_ip,
            "created": now.isoformat(timespec="seconds"),
            "expires": (now + timedelta(seconds=ttl)).isoformat(timespec="seconds"),
        }

    def session(self, session_id: str) -> dict[str, Any]:
        try:
            found = self.cache.store().load(session_id)
        except (LdapError, CacheUnavailable) as exc:
            raise Unavailable(str(exc)) from exc
        if found is None:
            raise NotFound(f"no session {session_id}")
        return found


def _expect(method: str, allowed: str) -> None:
    """Refuse another method than ``allowed``; HEAD is a GET without the body."""
    if method != allowed and not (allowed == "GET" and method == "HEAD"):
        raise MethodNotAllowed(f"use {allowed}")


def _fields(request: Request) -> dict[str, Any]:
    """The fields of a JSON or form body."""
    text = request.body.decode("utf-8", "replace")
    if request.content_type.split(";")[0].strip().lower() == "application/json":
        try:
            data = json.loads(text or "{}")
        except ValueError as exc:
            raise BadRequest("body is not JSON") from exc
        return data if isinstance(data, dict) else {}
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _credentials(request: Request) -> tuple[str, str]:
    """``username`` and ``password`` from a JSON or form body."""
    fields = _fields(request)
    username, password = fields.get("username"), fields.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise BadRequest("username and password are required")
    return username, password


@dataclass(frozen=True)
class _Audit:
    """One oxauth_audit.log line per login attempt; values JSON-quoted so none forges a line."""

    user: str
    client_ip: str
    node: str

    def success(self, session_id: str) -> None:
        self._write("USER_AUTHENTICATION_SUCCESS", "success", session_id, "")

    def failure(self, reason: str) -> None:
        self._write("USER_AUTHENTICATION_FAILURE", "failure", "-", reason)

    def _write(self, action: str, result: str, session_id: str, reason: str) -> None:
        audit_log.info(
            "%s result=%s user=%s session_id=%s client_ip=%s node=%s%s",
            action,
            result,
            json.dumps(self.user),
            session_id,
            self.client_ip,
            self.node,
            f" reason={json.dumps(reason)}" if reason else "",
        )
