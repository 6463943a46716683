"""Point the identity servers at the cache: ``oxCacheConfiguration`` in ``o=gluu``.

Written once, on one identity node: LDAP replication carries it to the others.
The script runs on the node (``python3``, root over ldapi); the desired values
come on stdin, so the Redis password never appears in a command line.  It
changes only ``cacheProviderType`` and the fields of ``redisConfiguration`` the
chain needs, and keeps every other setting the identity server has.
"""

from __future__ import annotations

import base64
import json

from clustermgr import topology
from clustermgr.components.cache.model import Provider
from clustermgr.facts.base import Fact
from clustermgr.facts.ldif import with_reader
from clustermgr.redact import Secret
from clustermgr.remote.command import Command

CONFIG_DN = "ou=configuration,o=gluu"
#: The identity servers reach the cache through their local stunnel client.
SERVERS = f"localhost:{topology.STUNNEL_CACHE_CLIENT.port}"

#: The encoding the (lab's) identity server expects for the stored Redis password:
#: base64 of the text.  Real Gluu encrypts it with the node's salt
#: (/etc/gluu/conf/salt); that encoder is not written yet.
PASSWORD_ENCODING = "base64"  # noqa: S105 (a name, not a password)


def encode_password(password: Secret) -> str:
    return base64.b64encode(password.reveal().encode()).decode("ascii")


#: Run with the LDIF reader and root's LDAP tools of :mod:`clustermgr.facts.ldif` in front.
SCRIPT = with_reader(r"""
import base64, json, subprocess, sys
mode, dn = sys.argv[1], sys.argv[2]
want = json.load(sys.stdin)
out = subprocess.run(
    [*LDAPSEARCH_ROOT, "-b", dn, "-s", "base", "oxCacheConfiguration"],
    capture_output=True, text=True, check=True).stdout
raw = next(iter(values(parse_ldif(out), "oxCacheConfiguration")), None)
config = json.loads(raw) if raw else {}
new = dict(config)
new["cacheProviderType"] = want["provider"]
if want["provider"] == "REDIS":
    redis = dict(new.get("redisConfiguration") or {})
    redis.update(want["redis"])
    new["redisConfiguration"] = redis
if mode == "check":
    sys.exit(0 if new == config else 1)
value = base64.b64encode(json.dumps(new).encode()).decode()
ldif = (f"dn: {dn}\nchangetype: modify\nreplace: oxCacheConfiguration\n"
        f"oxCacheConfiguration:: {value}\n-\n")
subprocess.run([*LDAPMODIFY_ROOT], input=ldif, text=True, check=True,
               stdout=subprocess.DEVNULL)
""")


#: Prints the provider the identity servers use now ("" when none is set).
_IN_USE_SCRIPT = with_reader(r"""
import json, subprocess, sys
out = subprocess.run(
    [*LDAPSEARCH_ROOT, "-b", sys.argv[1], "-s", "base", "oxCacheConfiguration"],
    capture_output=True, text=True, check=True).stdout
raw = next(iter(values(parse_ldif(out), "oxCacheConfiguration")), None)
print((json.loads(raw) if raw else {}).get("cacheProviderType", ""))
""")

#: Where the identity servers keep sessions now: the cache chain serves only once it
#: is ``REDIS`` (its restarts then take turns, node after node).
IN_USE = Fact(
    "cache provider in use",
    Command.of("python3", "-c", _IN_USE_SCRIPT, CONFIG_DN),
    lambda out: out.strip(),
)


def desired(provider: Provider, password: Secret) -> Secret:
    """What the script sets, as the JSON it reads on stdin (a secret: it holds the password)."""
    data: dict[str, object] = {"provider": provider.value}
    if provider is Provider.REDIS:
        data["redis"] = {
            "redisProviderType": "STANDALONE",
            "servers": SERVERS,
            "password": encode_password(password),
            "useSSL": False,
        }
    return Secret(json.dumps(data, sort_keys=True), label="oxCacheConfiguration")


def command(mode: str, provider: Provider, password: Secret) -> Command:
    """``mode`` "check" (exit 0: already so) or "apply"."""
    return Command.of("python3", "-c", SCRIPT, mode, CONFIG_DN, stdin=desired(provider, password))
