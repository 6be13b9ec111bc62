"""The extra edition's planner and an editor's time: pure, with fixed clocks."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.extra.pacing import BadTime, QueuedEntry, QueueRules, parse_time, plan_queue
from bot.weekly.windows import PostingWindow

ZONE = ZoneInfo("Asia/Shanghai")
WINDOW = PostingWindow(dt.time(9), dt.time(21), per_day=3, zone=ZONE)
RULES = QueueRules(window=WINDOW, max_per_day=3, gap=dt.timedelta(minutes=30))


def local(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=ZONE)


def ts(day: int, hour: int, minute: int = 0) -> float:
    return local(day, hour, minute).timestamp()


def at(plan_times: tuple[tuple[int, float], ...]) -> list[dt.datetime]:
    return [dt.datetime.fromtimestamp(t, ZONE) for _, t in plan_times]


def test_items_are_spread_in_the_window_at_most_n_a_day_in_order() -> None:
    entries = [QueuedEntry(i) for i in range(1, 8)]
    plan = plan_queue(entries, now=local(8, 7), rules=RULES)
    times = at(plan.times)
    assert [i for i, _ in plan.times] == list(range(1, 8))
    assert times[:3] == [local(8, 9), local(8, 13), local(8, 17)]  # 12 h / 3 apart
    assert times[3:6] == [local(9, 9), local(9, 13), local(9, 17)]
    assert times[6] == local(10, 9)
    assert times == sorted(times)
    for t in times:
        assert dt.time(9) <= t.time() <= dt.time(21)


def test_never_within_the_gap_of_an_issues_planned_items() -> None:
    # An issue's items at 09:00, 13:00, 17:00 and 21:00 (its four a day).
    occupied = [ts(8, h) for h in (9, 13, 17, 21)]
    plan = plan_queue(
        [QueuedEntry(1), QueuedEntry(2), QueuedEntry(3)],
        now=local(8, 7),
        rules=RULES,
        occupied=occupied,
    )
    times = at(plan.times)
    assert times == [local(8, 9, 30), local(8, 13, 30), local(8, 17, 30)]
    for t in times:
        assert min(abs(t.timestamp() - o) for o in occupied) >= 30 * 60


def test_the_items_already_sent_today_count_and_keep_their_distance() -> None:
    sent = [ts(8, 9), ts(8, 13)]  # two went out this morning
    plan = plan_queue([QueuedEntry(1), QueuedEntry(2)], now=local(8, 14), rules=RULES, sent=sent)
    assert at(plan.times) == [local(8, 17), local(9, 9)]


def test_a_given_time_is_kept_and_the_others_pace_around_it() -> None:
    entries = [QueuedEntry(1), QueuedEntry(2, pinned_at=ts(8, 10)), QueuedEntry(3)]
    plan = plan_queue(entries, now=local(8, 7), rules=RULES)
    assert plan.at(2) == ts(8, 10)
    assert plan.at(1) == ts(8, 14)  # four hours from the given 10:00
    assert plan.at(3) == ts(8, 18)


def test_a_given_time_the_bot_slept_through_is_due_at_once() -> None:
    now = local(8, 12)
    plan = plan_queue([QueuedEntry(1, pinned_at=ts(8, 10))], now=now, rules=RULES)
    assert plan.at(1) == now.timestamp()


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        plan_queue([QueuedEntry(1)], now=dt.datetime(2026, 12, 8, 9), rules=RULES)


NOW = local(8, 12)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("18:30", local(8, 18, 30)),
        ("09:15", local(9, 9, 15)),  # passed today: tomorrow's
        ("tomorrow 08:00", local(9, 8)),
        ("12-10 21:00", local(10, 21)),
        ("2026-12-24 07:05", local(24, 7, 5)),
        ("  2026-12-24   07.05 ", local(24, 7, 5)),
    ],
)
def test_an_editors_time_is_read_in_the_channels_zone(given: str, expected: dt.datetime) -> None:
    assert parse_time(given, now=NOW, zone=ZONE) == expected


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("soon", "not a time"),
        ("25:00", "not a time"),
        ("2026-02-30 10:00", "no such date"),
        ("2026-12-01 10:00", "that time has passed"),
        ("2027-06-01 10:00", "more than 60 days ahead"),
    ],
)
def test_a_bad_time_says_why(given: str, reason: str) -> None:
    assert parse_time(given, now=NOW, zone=ZONE) == BadTime(reason)
