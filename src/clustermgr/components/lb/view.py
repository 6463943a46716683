"""The load balancer page's chart (pure): each node's health check response time."""

from __future__ import annotations

from collections.abc import Sequence

from clustermgr.components.lb.findings import HEALTH_METRIC
from clustermgr.monitor.views import HistoryView
from clustermgr.web.charts import Chart, history_chart


def charts(members: Sequence[str], history: HistoryView) -> tuple[Chart, ...]:
    """The health check's response time per node (the average of each step)."""
    title = "Health check response time"
    return (history_chart("health-chart", title, members, history, HEALTH_METRIC, pick="avg"),)
