"""Posting windows: slots inside the window, in the channel's zone, rolling over days."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest

from bot.weekly.windows import PostingWindow, next_free_slots

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def window(per_day: int = 3, zone: ZoneInfo = SHANGHAI) -> PostingWindow:
    return PostingWindow(start=dt.time(9), end=dt.time(21), per_day=per_day, zone=zone)


def at(day: int, hour: int, minute: int = 0, zone: ZoneInfo = SHANGHAI) -> dt.datetime:
    return dt.datetime(2025, 6, day, hour, minute, tzinfo=zone)


def test_three_a_day_are_evenly_spaced_with_both_ends_included() -> None:
    assert window().day_slots(dt.date(2025, 6, 7)) == [at(7, 9), at(7, 15), at(7, 21)]


def test_one_a_day_goes_when_the_window_opens() -> None:
    assert window(1).day_slots(dt.date(2025, 6, 7)) == [at(7, 9)]


def test_before_the_window_the_first_slot_is_the_opening() -> None:
    assert next_free_slots(window(), 2, after=at(7, 3)) == [at(7, 9), at(7, 15)]


def test_a_slot_exactly_now_is_taken_unless_strict() -> None:
    assert next_free_slots(window(), 1, after=at(7, 15)) == [at(7, 15)]
    assert next_free_slots(window(), 1, after=at(7, 15), strict=True) == [at(7, 21)]


def test_after_the_window_closes_the_next_day_starts() -> None:
    assert next_free_slots(window(), 2, after=at(7, 21, 1)) == [at(8, 9), at(8, 15)]


def test_more_items_than_a_day_holds_roll_over_and_nothing_is_planned_after_the_last() -> None:
    slots = next_free_slots(window(), 7, after=at(7, 10))
    assert slots == [at(7, 15), at(7, 21), at(8, 9), at(8, 15), at(8, 21), at(9, 9), at(9, 15)]
    assert len(slots) == 7


def test_the_channel_zone_decides_not_the_clock_of_the_caller() -> None:
    # 02:00 UTC is 10:00 in Shanghai: the window is open there, the 09:00 slot is past.
    now = dt.datetime(2025, 6, 7, 2, 0, tzinfo=dt.UTC)
    assert next_free_slots(window(), 1, after=now) == [at(7, 15)]
    # 14:00 UTC is 22:00 in Shanghai: closed until tomorrow 09:00 (01:00 UTC).
    late = dt.datetime(2025, 6, 7, 14, 0, tzinfo=dt.UTC)
    (first,) = next_free_slots(window(), 1, after=late)
    assert first == at(8, 9)
    assert first.astimezone(dt.UTC) == dt.datetime(2025, 6, 8, 1, 0, tzinfo=dt.UTC)


def test_busy_slots_are_skipped() -> None:
    busy = {at(7, 15).timestamp(), at(8, 9).timestamp()}
    assert next_free_slots(window(), 2, after=at(7, 10), busy=busy) == [at(7, 21), at(8, 15)]


def test_on_a_dst_day_slots_stay_inside_and_evenly_spaced_in_real_time() -> None:
    # Europe/Berlin springs forward on 2025-03-30: 09:00 → 21:00 is 12 real hours anyway
    # (the jump is at 02:00), and autumn's day too; the slots stay inside the window.
    w = window(3, BERLIN)
    for day in (dt.date(2025, 3, 30), dt.date(2025, 10, 26)):
        slots = w.day_slots(day)
        assert slots[0].timetz().replace(tzinfo=None) == dt.time(9)
        assert slots[-1].timetz().replace(tzinfo=None) == dt.time(21)
        gaps = {b.astimezone(dt.UTC) - a.astimezone(dt.UTC) for a, b in itertools.pairwise(slots)}
        assert len(gaps) == 1


def test_the_window_is_open_from_start_to_end_inclusive() -> None:
    w = window()
    assert w.open_at_or_after(at(7, 8, 59)) == at(7, 9)
    assert w.open_at_or_after(at(7, 12)) == at(7, 12)
    assert w.open_at_or_after(at(7, 21)) == at(7, 21)
    assert w.open_at_or_after(at(7, 21, 1)) == at(8, 9)


def test_nothing_asked_nothing_given() -> None:
    assert next_free_slots(window(), 0, after=at(7, 10)) == []


@pytest.mark.parametrize(
    ("start", "end", "per_day"), [(dt.time(21), dt.time(9), 3), (dt.time(9), dt.time(9), 1)]
)
def test_a_window_across_midnight_or_empty_is_refused(
    start: dt.time, end: dt.time, per_day: int
) -> None:
    with pytest.raises(ValueError, match="before its end"):
        PostingWindow(start=start, end=end, per_day=per_day, zone=SHANGHAI)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_free_slots(window(), 1, after=dt.datetime(2025, 6, 7, 10))


def test_a_day_cap_counts_busy_slots_and_rolls_the_rest_over() -> None:
    busy = {at(7, 9).timestamp(), at(7, 15).timestamp()}
    # The 7th already holds two: with a cap of 3 it takes one more, then the 8th.
    assert next_free_slots(window(6), 3, after=at(7, 8), busy=busy, day_cap=3) == [
        at(7, 11, 24),
        at(8, 9),
        at(8, 11, 24),
    ]


def test_a_day_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="day_cap"):
        next_free_slots(window(), 1, after=at(7, 8), day_cap=0)
