"""Links from an event on some hosts (an alert, a job) to the pages of the components
that show a time on a host (``Component.around``): its hosts, a few minutes either side
of its time.  The pages name no component: each declares the link's text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from clustermgr.components.contract import Component
from clustermgr.monitor.store import hosts_of_key

#: How far before an event's start and after its end the links reach.
MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Link:
    text: str
    href: str
    host: str


def instant(moment: datetime) -> str:
    """A time as the links carry it: ISO 8601 in UTC to the second (``...Z``)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def links(
    components: Sequence[Component],
    cluster: str,
    hosts: Iterable[str],
    start: datetime | None,
    end: datetime | None,
) -> list[Link]:
    """One link per host and component declaring ``around``; no ``to`` while the event
    goes on (``end`` None), none at all before it started."""
    if start is None:
        return []
    window = {"from": instant(start - MARGIN)}
    if end is not None:
        window["to"] = instant(end + MARGIN)
    return [
        Link(c.around, f"/clusters/{cluster}/{c.name}?" + urlencode({"host": host, **window}), host)
        for c in components
        if c.around
        for host in hosts
    ]


def alert_links(
    components: Sequence[Component],
    cluster: str,
    key: str,
    hostnames: Iterable[str],
    opened: datetime,
    resolved: datetime | None,
) -> list[Link]:
    """The links of an alert: the hosts its key names, from its opening to its end."""
    return links(components, cluster, hosts_of_key(key, hostnames), opened, resolved)
