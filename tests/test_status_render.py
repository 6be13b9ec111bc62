"""`/status` as words: the pure `render_status` over a `Status`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.editors.status import SourceLine, Status, TargetLine, render_status, source_lines
from bot.weekly.watch import PollRecord
from data.store import SourceState
from publishers.telegram_html import parse_html
from publishers.x_quota import RateWindow, XQuota

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 7, 20, 0, tzinfo=SHANGHAI).timestamp()


def status(**changes: object) -> Status:
    values: dict[str, object] = {
        "now": NOW,
        "sources": (
            SourceLine("feed:https://a.test/<rss>", NOW - 60, NOW + 540, "HTTP 500 <&>", 3),
        ),
        "targets": (
            TargetLine("telegram", "Telegram", {"sent": 8, "queued": 2}, hold_until=NOW + 90),
            TargetLine(
                "x",
                "X",
                {"failed": 1},
                paused_by="@cat [1]",
                quota=XQuota(window_15m=RateWindow(100, 97, int(NOW + 3600 * 5))),
                reports_quota=True,
            ),
        ),
        "queue_length": 2,
        "queue_next_at": NOW + 86400,
    }
    values.update(changes)
    return Status(**values)  # type: ignore[arg-type]


def test_status_is_valid_telegram_html_with_values_escaped() -> None:
    visible = parse_html(render_status(status(), SHANGHAI)).text
    lines = visible.splitlines()
    assert lines[0] == "Status at 20:00 (Asia/Shanghai)"
    assert (
        "• feed:https://a.test/<rss>: last poll 19:59, next 20:09;"
        " last error (3 in a row): HTTP 500 <&>"
    ) in lines
    assert "• Telegram: 2 queued, 8 sent; held until 20:01" in lines
    assert "• X: 1 failed; ⏸ paused by @cat [1]; quota 15 min 97/100 left (resets 12-08 01:00)" in (
        lines
    )
    assert "Paused: X" in lines
    assert "Extra-edition queue: 2 waiting, next at 12-08 20:00" in lines


def test_an_unreported_quota_and_an_empty_queue_say_so() -> None:
    quiet = TargetLine("x", "X", {}, reports_quota=True)
    visible = parse_html(
        render_status(status(targets=(quiet,), queue_length=0, sources=()), SHANGHAI)
    ).text
    assert "• X: —; quota not reported yet (no post since start)" in visible
    assert "• none watched" in visible
    assert "Paused: none" in visible
    assert "Extra-edition queue: empty" in visible


def test_a_source_keeps_its_stored_error_and_a_new_one_its_polls() -> None:
    records = (PollRecord("feed:a", NOW, NOW + 60, None), PollRecord("git:b", None, NOW + 1))
    states = (SourceState("feed:a", last_error="timed out", consecutive_failures=2),)
    a, b = source_lines(records, states)
    assert (a.last_error, a.failures, a.last_poll_at) == ("timed out", 2, NOW)
    assert (b.last_error, b.failures, b.last_poll_at) == (None, 0, None)
