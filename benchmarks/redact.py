"""Benchmark: the cost of ``redact()`` with many held secrets registered.

Run on demand (not part of the test suite; no lab, no root):

    .venv/bin/python benchmarks/redact.py [--secrets 1000] [--rounds 2000]

Registers ``--secrets`` held secrets (random passwords of 16 to 40 characters, and
one private key whose lines count too), then times :func:`redact` on a typical
audit entry and a typical job event, each without a secret in it and with one,
and the first call after a new secret is registered (the pattern is rebuilt).
Prints the mean time per call in microseconds.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time
from collections.abc import Callable

from clustermgr.redact import MASK, Secret, redact, registered_count

AUDIT_ENTRY = json.dumps(
    {
        "actor": "admin",
        "action": "lb.settings",
        "target": "prod/lb",
        "result": "ok",
        "detail": {"client": "192.0.2.7", "cert_file": "/etc/nginx/tls/lb.pem", "workers": 4},
    }
)
JOB_EVENT = (
    "idp2.example.org: ldapmodify -H ldapi:/// -Y EXTERNAL: modifying entry "
    '"olcDatabase={1}mdb,cn=config"; replication to ldaps://idp1.example.org:1636 '
    "and ldaps://idp3.example.org:1636 configured, "
    "contextCSN 20240102030405.000000Z#000000#001#000000"
)
KEY = "\n".join(
    ["-----BEGIN OPENSSH PRIVATE KEY-----"]
    + [
        "".join(random.Random(n).choices(string.ascii_letters + string.digits, k=70))
        for n in range(25)
    ]
    + ["-----END OPENSSH PRIVATE KEY-----"]
)


def per_call(function: Callable[[], object], rounds: int) -> float:
    """Mean seconds per call of ``function`` over ``rounds`` calls."""
    start = time.perf_counter()
    for _ in range(rounds):
        function()
    return (time.perf_counter() - start) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secrets", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()

    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "-_"
    values = ["".join(rng.choices(alphabet, k=rng.randint(16, 40))) for _ in range(args.secrets)]
    for value in values:
        Secret.held(value, label="bench")
    Secret.held(KEY, label="bench-key")
    print(f"registered values: {registered_count()}")

    leaked = values[len(values) // 2]
    cases = {
        "audit entry, no secret": AUDIT_ENTRY,
        "audit entry, one secret": AUDIT_ENTRY.replace("192.0.2.7", leaked),
        "job event, no secret": JOB_EVENT,
        "job event, one secret": f"{JOB_EVENT} (bind password {leaked})",
    }
    for name, text in cases.items():
        assert (MASK in redact(text)) == (leaked in text)
        seconds = per_call(lambda text=text: redact(text), args.rounds)  # type: ignore[misc]
        print(f"{name:<26} {seconds * 1e6:9.1f} µs/call")

    rebuilds = max(1, args.rounds // 100)
    counter = iter(range(rebuilds))

    def after_a_new_secret() -> None:
        Secret.held(f"bench-new-secret-{next(counter):06}")
        redact(AUDIT_ENTRY)

    seconds = per_call(after_a_new_secret, rebuilds)
    print(f"{'first call after a new one':<26} {seconds * 1e6:9.1f} µs/call (pattern rebuilt)")


if __name__ == "__main__":
    main()
