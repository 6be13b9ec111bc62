"""The Prometheus series: counters bumped where each thing happens, gauges read at scrape.

Counters live in one registry of their own (`REGISTRY`, not prometheus-client's global
one), incremented at the one place each event happens: the delivery workers
(`bot.delivery.workers`: sent, failed, in doubt, 429) and the pollers (`bot.weekly.watch`: poll
duration, source errors). Gauges (outbox depth by state, submissions by state, the extra
edition's queue, ages) are not kept in memory at all: `render` is handed a `Snapshot`
read from `data/` at scrape time, so they can never drift from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

POSTS_SENT = Counter(
    "weeklybot_posts_sent", "Posts recorded as sent, per target.", ["target"], registry=REGISTRY
)
POSTS_FAILED = Counter(
    "weeklybot_posts_failed",
    "Posts that went to failed (refused for good or out of retries), per target.",
    ["target"],
    registry=REGISTRY,
)
POSTS_IN_DOUBT = Counter(
    "weeklybot_posts_in_doubt",
    "Sends that may have gone out (a timeout, a dropped connection), per target.",
    ["target"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "weeklybot_rate_limited",
    "Answers that named a wait (Telegram's 429 retry_after, X's spent window), per target.",
    ["target"],
    registry=REGISTRY,
)
POLL_SECONDS = Histogram(
    "weeklybot_poll_duration_seconds",
    "One poll of a source, fetch and ingest.",
    ["source"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
    registry=REGISTRY,
)
SOURCE_ERRORS = Counter(
    "weeklybot_source_errors", "Polls of a source that failed.", ["source"], registry=REGISTRY
)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the gauges show, read from the database (and the watch board) at scrape time."""

    outbox_by_state: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (target, state)
    submissions_by_state: Mapping[str, int] = field(default_factory=dict)
    extra_queue_length: int = 0
    oldest_due_age_seconds: float | None = None
    poll_ok_age_seconds: Mapping[str, float | None] = field(default_factory=dict)  # source label
    update_queue_length: int = 0  # Telegram updates received, not yet handled


class _SnapshotCollector(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterable[Metric]:
        return list(_gauges(self.snapshot))


def _gauges(snap: Snapshot) -> Iterator[Metric]:
    outbox = GaugeMetricFamily(
        "weeklybot_outbox_rows", "Outbox rows by target and state.", labels=["target", "state"]
    )
    for (target, state), count in sorted(snap.outbox_by_state.items()):
        outbox.add_metric([target, state], count)
    yield outbox
    submissions = GaugeMetricFamily(
        "weeklybot_submissions", "Readers' submissions by state.", labels=["state"]
    )
    for state, count in sorted(snap.submissions_by_state.items()):
        submissions.add_metric([state], count)
    yield submissions
    yield GaugeMetricFamily(
        "weeklybot_extra_queue_length",
        "Links queued for the extra edition.",
        value=snap.extra_queue_length,
    )
    yield GaugeMetricFamily(
        "weeklybot_outbox_oldest_due_age_seconds",
        "How long the oldest due queued post has waited (0: none due).",
        value=snap.oldest_due_age_seconds or 0.0,
    )
    yield GaugeMetricFamily(
        "weeklybot_update_queue_length",
        "Telegram updates received (polled or by webhook) and not yet handled.",
        value=snap.update_queue_length,
    )
    ages = GaugeMetricFamily(
        "weeklybot_source_last_ok_age_seconds",
        "Seconds since a source's last successful poll (NaN: none in this run).",
        labels=["source"],
    )
    for source, age in sorted(snap.poll_ok_age_seconds.items()):
        ages.add_metric([source], float("nan") if age is None else age)
    yield ages


def render(snapshot: Snapshot) -> bytes:
    """The exposition text: the counters, then the gauges of `snapshot`."""
    gauges = CollectorRegistry(auto_describe=False)
    gauges.register(_SnapshotCollector(snapshot))
    return generate_latest(REGISTRY) + generate_latest(gauges)
