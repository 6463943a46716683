"""A steady login loop through the load balancer, for tests that change a serving cluster.

At ``rate`` logins per second, each one posted to the balancer as a browser would,
every token the login returns is then validated (introspected) on another identity
node than the one that issued it, straight at that node.  Every request that fails
(a transport error, a status other than 200, a refused token) is kept with what it
was, so a test asserts ``loop.failures == []`` and shows them when it is not.

Requests run side by side (one starts every ``1 / rate`` seconds whatever the
previous one is doing): a node that hangs shows up as failures, not as a slower loop.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import TracebackType

import httpx

from clustermgr.lab.gluu import oxauth
from labfixture import ADMIN_PASSWORD, Lab

LOGIN_PATH = "/oxauth/restv1/login"


@dataclass(frozen=True)
class Failure:
    #: Seconds since the loop started.
    at: float
    #: ``login`` or ``validate``.
    what: str
    #: The node asked (``proxy1`` for a login).
    node: str
    detail: str

    def __str__(self) -> str:
        return f"{self.at:7.2f}s {self.what} on {self.node}: {self.detail}"


@dataclass
class LoginLoop:
    lab: Lab
    #: The identity nodes (short names) tokens are validated on; change it while the
    #: loop runs (a node that is about to leave is taken out before it goes).
    validators: set[str]
    rate: float = 2.0
    logins: int = 0
    validations: int = 0
    failures: list[Failure] = field(default_factory=list)
    #: Logins per issuing node (short name).
    issued_by: Counter[str] = field(default_factory=Counter)
    #: Validations per validating node.
    validated_on: Counter[str] = field(default_factory=Counter)
    #: Every token issued, in order (a rotation test validates them all again later).
    tokens: list[str] = field(default_factory=list)
    _started: float = 0.0
    _runner: asyncio.Task[None] | None = None
    _inflight: set[asyncio.Task[None]] = field(default_factory=set)
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> LoginLoop:
        # The lab's certificates are checked by tests of their own; here only answers count.
        self._http = httpx.AsyncClient(verify=False, timeout=10)
        self._started = time.monotonic()
        self._runner = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        """Stop starting logins and wait for the ones on their way."""
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def wait_logins(self, count: int, timeout: float = 60.0) -> None:
        """Wait until ``count`` more logins have been made."""
        target = self.logins + count
        deadline = time.monotonic() + timeout
        while self.logins < target:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.logins} of {target} logins in {timeout:g} s")
            await asyncio.sleep(0.1)

    def summary(self) -> str:
        lines = [
            f"{self.logins} logins ({dict(self.issued_by)}), "
            f"{self.validations} validations ({dict(self.validated_on)}), "
            f"{len(self.failures)} failed"
        ]
        return "\n".join(lines + [str(f) for f in self.failures])

    async def validate(self, node: str, token: str) -> bool:
        """Whether ``node`` accepts ``token`` now (a failed request is recorded, and False)."""
        url = f"https://{self.lab.host(node).address}{oxauth.INTROSPECTION_PATH}"
        try:
            answer = await self._client().post(url, json={"token": token})
        except httpx.HTTPError as exc:
            return self._failed("validate", node, f"{type(exc).__name__}: {exc}")
        if answer.status_code != 200:
            return self._failed("validate", node, f"HTTP {answer.status_code}: {answer.text[:200]}")
        self.validations += 1
        self.validated_on[node] += 1
        if not answer.json().get("active"):
            return self._failed("validate", node, "token refused (active: false)")
        return True

    async def _run(self) -> None:
        period = 1.0 / self.rate
        for n in itertools.count():
            task = asyncio.create_task(self._one())
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            delay = self._started + (n + 1) * period - time.monotonic()
            await asyncio.sleep(max(0.0, delay))

    async def _one(self) -> None:
        url = f"https://{self.lab.host('proxy1').address}{LOGIN_PATH}"
        body = {"username": "admin", "password": ADMIN_PASSWORD.reveal()}
        try:
            answer = await self._client().post(url, json=body)
        except httpx.HTTPError as exc:
            self._failed("login", "proxy1", f"{type(exc).__name__}: {exc}")
            return
        if answer.status_code != 200:
            self._failed("login", "proxy1", f"HTTP {answer.status_code}: {answer.text[:200]}")
            return
        self.logins += 1
        issuer = str(answer.json()["node"]).split(".", 1)[0]
        token = str(answer.json()["access_token"])
        self.issued_by[issuer] += 1
        self.tokens.append(token)
        others = sorted(self.validators - {issuer})
        if not others:
            self._failed("validate", issuer, "no other node to validate on")
            return
        await self.validate(others[next(self._turn) % len(others)], token)

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("the login loop is not running")
        return self._http

    def _failed(self, what: str, node: str, detail: str) -> bool:
        self.failures.append(
            Failure(round(time.monotonic() - self._started, 2), what, node, detail)
        )
        return False


def looping(lab: Lab, validators: Iterable[str], rate: float = 2.0) -> LoginLoop:
    """``async with looping(lab, ["idp1", "idp2"]) as loop: ...`` then check ``loop.failures``."""
    return LoginLoop(lab, set(validators), rate)
