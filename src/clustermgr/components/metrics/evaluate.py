"""Which threshold rules are breached long enough to alert, after one scrape (pure).

An instance of a rule is one host's series with one set of labels (``disk-used``
on ``idp1`` for mount ``/``); its alert key is ``RULE:HOST``, with the label values
between the two (``disk-used:/:idp1``): the host comes last, as in every alert key, so
that a notification and a server's alert list find it there.  Per instance the caller
keeps when its breach started (``starts``, in memory):

- breached now: the start stays (or is now); a finding once it has lasted the
  rule's duration, or at once when its alert is open already (a watcher that
  restarted forgot the start, not the alert);
- judged and not breached: the start goes, and its open alert resolves: no
  hysteresis, the value back on the right side of the threshold is enough;
- not judged (its host could not be reached, or its series was not read this
  scrape): its open alert is *unknown*, neither opened nor resolved, and its
  start is kept: a gap is no evidence either way.

An open alert of a rule that is off or gone, or of a server no longer in the
cluster, resolves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from clustermgr.components.metrics.measures import Values, series_unit
from clustermgr.components.metrics.rules import UNREACHABLE, Rule, words_duration
from clustermgr.monitor.alerts import Finding
from clustermgr.monitor.series.ingest import Labels
from clustermgr.topology import Role

#: The longest alert key the alert store keeps.
KEY_LENGTH = 255


def key_of(rule: str, host: str, labels: Labels) -> str:
    """``RULE:HOST`` or ``RULE:VALUES:HOST``; in one too long for the store, the values
    end in a digest of the whole instead (stable across scrapes), the host kept last."""
    tail = ",".join(v for _, v in sorted(labels))
    key = f"{rule}:{tail}:{host}" if labels else f"{rule}:{host}"
    if len(key) <= KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    room = max(0, KEY_LENGTH - len(host) - len(digest) - 2)
    return f"{f'{rule}:{tail}'[:room]}~{digest}:{host}"[:KEY_LENGTH]


def rule_and_host(key: str) -> tuple[str, str]:
    """The rule and the host a key names (a label value may hold a ``:``, a host not)."""
    return key.partition(":")[0], key.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class Evaluation:
    findings: tuple[Finding, ...] = ()
    #: Open alert keys of instances not judged this scrape: kept as they are.
    unknown: tuple[str, ...] = ()
    #: Instance key -> when (epoch seconds) its breach started: the next scrape's ``starts``.
    starts: dict[str, float] = field(default_factory=dict)


def evaluate(
    rules: Sequence[Rule],
    roles: Mapping[str, Role],
    values: Mapping[str, Values],
    open_keys: Collection[str],
    starts: Mapping[str, float],
    at: float,
) -> Evaluation:
    """The threshold rules' findings for one scrape at ``at`` (epoch seconds).

    ``roles``: every server of the cluster and its role; ``values``: what the scrape
    read of each reachable server; ``open_keys``: the open alerts of the component
    (other keys, such as the unreachable ones, are left alone); ``starts``: what the
    previous evaluation returned.
    """
    active = {r.id: r for r in rules if r.enabled and r.id != UNREACHABLE}
    findings: list[Finding] = []
    judged: set[str] = set()
    kept: dict[str, float] = {}
    for host, role in sorted(roles.items()):
        if host not in values:
            continue
        for rule in active.values():
            if role not in rule.watched_roles:
                continue
            for labels, value in sorted(values[host].get(rule.series, {}).items()):
                if not set(rule.labels.items()) <= set(labels):
                    continue
                key = key_of(rule.id, host, labels)
                judged.add(key)
                if not rule.breached(value):
                    continue
                start = kept[key] = starts.get(key, at)
                if at - start >= rule.duration or key in open_keys:
                    findings.append(finding(rule, key, host, labels, value, at - start))
    unknown = []
    for key in sorted(set(open_keys) | set(starts)):
        rule_id, host = rule_and_host(key)
        watching = active.get(rule_id)
        if key in judged or watching is None or host not in roles:
            continue
        if roles[host] not in watching.watched_roles:
            continue
        if key in starts:
            kept[key] = starts[key]
        if key in open_keys:
            unknown.append(key)
    return Evaluation(tuple(findings), tuple(unknown), kept)


def finding(
    rule: Rule, key: str, host: str, labels: Labels, value: float, lasted: float
) -> Finding:
    where = "".join(f" {k} {v}" for k, v in sorted(labels))
    unit = series_unit(rule.series)
    unit = {"%": " %", "": "", "ratio": ""}.get(unit, f" {unit}")  # a ratio is a bare number
    message = (
        f"{rule.series} of {host}{where} is {value:.3g}{unit} "
        f"({rule.comparison} {rule.threshold:g}{unit}, for {words_duration(round(lasted))})"
    )
    return Finding(key, rule.severity, message, f"rule {rule.id}: {rule.describe()}")
