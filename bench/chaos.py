"""Chaos: kill -9 the bot while it publishes, and fakes that fail 20% of calls.

Scenarios (``--only NAME`` runs one; all by default):

- ``kills``: a 40-item plan (an issue's items, on the channel and on X) is queued and
  ``python -m bot run`` (``weeklybot run``) publishes it; at a random moment (seeded:
  after 0–3 publishing calls of this run, then a random part of a pacing gap) the
  harness sends SIGKILL and restarts it on the same database, ``--kills`` times. When
  a plan is done another issue's plan is queued, so every kill lands mid-publish. A
  last run without kills settles what is left. Reported as the fakes saw it: posts
  lost, duplicated, rows left ``in_doubt`` (goal ≤ kills), in-doubt rows no editor
  was shown (goal 0), and how many doubts the log-chat probe settled.
- ``faults``: no kills; the fakes answer 20% of publishing calls with 429, 5xx, a
  gateway page, a timeout (Telegram only: X's client waits 30 s), or a dropped
  connection before or after recording. Reported: delivered, duplicated, in doubt
  against the ambiguous faults (dropped after recording, timeouts), how many of those
  the automatic checks settled, and the time against the ideal (the plan at the
  configured pace with no fault).
- ``submits``: readers send bursts of ``/submit <url>`` (a fifth of them a link sent
  before, by them or another reader) while the bot is killed; Telegram redelivers
  what the bot had not confirmed. Reported: links acknowledged ("Received, #id") and
  not stored as that reader's (goal 0), links stored twice (goal 0), two
  acknowledgements of one submission (goal 0), pending links with no review card
  after the last run (goal 0), and how many links were stored unacknowledged or
  never stored (a kill after Telegram forgot the update: allowed, counted).
- ``approvals``: pending links with review cards in both editors' chats; editors
  press Approve (some twice, some both editors) while the bot is killed. Reported:
  approvals applied twice (decision log, goal 0), pressed links left undecided
  after the last run (goal 0), outbox rows missing or doubled per target (goal 0),
  and posts lost, duplicated, in doubt as the fakes saw them.
- ``queue``: extra-edition links queued through the core and pinned at the scaled
  pace (the queue's own pace is minutes) drain while the bot is killed, as in
  ``kills``. Reported: queued posts lost, duplicated, in doubt (goal ≤ kills).

The fakes run in this process, so what they recorded survives every kill. Their
limits and the bot's pacing are scaled together (``--scale``, default ×10: the
channel at 200 posts a minute, one every 0.1 s at the closest).

Run: ``.venv/bin/python bench/chaos.py [--kills 50] [--seed 1] [--scale 10] [--quick]``
(``--quick``: 5 kills, a 10-item plan; 3 kills for the intake scenarios).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

try:  # imported as bench.chaos (the tests, bench/run_all.py)
    from bench import _chaos_intake as intake
    from bench import _chaos_support as support
    from bench.report import Measure, emit
except ModuleNotFoundError:  # run as `python bench/chaos.py`: bench/ is on the path
    import _chaos_intake as intake  # type: ignore[no-redef]
    import _chaos_support as support  # type: ignore[no-redef]
    from report import Measure, emit  # type: ignore[no-redef]

from bot.fakes.telegram import Fault
from bot.fakes.x_model import FaultKind

SCRIPT = "chaos"
SETTLE_WITHIN = 120.0  # the last run: seconds for the bot to finish what is left


@dataclass(frozen=True)
class KillRun:
    kills: int
    plans: int
    seconds: float
    tally: support.Tally


async def run_kills(
    work: Path, *, kills: int, seed: int, scale: float, items: int, say: Callable[[str], None]
) -> KillRun:
    rng = random.Random(seed)
    database = work / "chaos.db"
    started = time.monotonic()
    async with support.chaos_fakes(scale, seed=seed) as (tg, fx):
        latency = support.slow_platforms(tg, fx, scale, seed=seed)
        bot = support.BotProcess(support.bot_env(tg, fx, database, scale), work / "bot.log")
        plans = [1001]
        await support.enqueue(database, support.plan_rows(plans[0], items))

        async def more() -> None:  # a plan done: the next issue's, so kills land mid-publish
            if support.settled(support.read_rows(database)):
                plans.append(plans[-1] + 1)
                await support.enqueue(database, support.plan_rows(plans[-1], items))

        gap = 1.0 / scale * 3  # the channel's pacing gap at this scale
        await support.kill_while_publishing(
            bot, tg, fx, kills=kills, rng=rng, pause=gap + latency, before_start=more, say=say
        )
        await support.settle_run(
            bot, support.outbox_settled(database), within=SETTLE_WITHIN, what="last", say=print
        )
        result = support.tally(tg, fx, database)
    return KillRun(kills, len(plans), time.monotonic() - started, result)


@dataclass(frozen=True)
class FaultRun:
    faults: int
    ambiguous: int
    seconds: float
    ideal: float
    budget: float  # the ideal plus the waits the design imposes on these faults
    tally: support.Tally


TG_KINDS = (
    Fault.retry_after(1),
    Fault.server_error(500),
    Fault.gateway_page(502),
    Fault.timeout(6.0),  # PTB's read timeout is 5 s
    Fault.drop_before(),
    Fault.drop_after(),
)
# No 429 on X here: X's answer names the end of its 15-minute window, which the bot
# honours (tests/test_delivery_x.py) and which the fake does not scale.
X_KINDS = (
    FaultKind.SERVER_ERROR,
    FaultKind.DROP_BEFORE,
    FaultKind.DROP_AFTER,
)


async def run_faults(
    work: Path, *, rate: float, seed: int, scale: float, items: int, say: Callable[[str], None]
) -> FaultRun:
    database = work / "faults.db"
    async with support.chaos_fakes(scale, seed=seed) as (tg, fx):
        # Each Telegram kind is drawn in turn; together they fail `rate` of the sends.
        per_kind = 1 - (1 - rate) ** (1 / len(TG_KINDS))
        for fault in TG_KINDS:
            for method in ("sendMessage", "sendPhoto"):
                tg.inject_rate(fault, per_kind, method=method)
        fx.set_fault_rate(rate, X_KINDS, seed=seed, endpoint="create_post")
        await support.enqueue(database, support.plan_rows(2001, items))
        bot = support.BotProcess(support.bot_env(tg, fx, database, scale), work / "faults.log")
        # Only the channel's posts are faulted; the editors' cards and the probe's
        # forwards go through, so what is left in doubt reaches the editors.
        seconds = await support.settle_run(
            bot, support.outbox_settled(database), within=600, what="faults", say=say
        )
        result = support.tally(tg, fx, database)
        tg_faults = [c for c in tg.calls if c.fault and c.chat_id == support.CHANNEL_ID]
        x_faults = [c for c in fx.calls("create_post") if c.fault]
        ambiguous = sum(1 for c in tg_faults if c.fault in ("drop_after", "slow")) + sum(
            1 for c in x_faults if c.fault == FaultKind.DROP_AFTER
        )
    # The ideal: the channel's items at the configured pace (X is not the bottleneck).
    # The budget adds the waits the design imposes: PTB's 5 s read timeout per timeout,
    # the probe's quiet time per Telegram doubt (the worker waits it), and a
    # backoff of about 4 s per other fault (2 s, then 4 s, jittered).
    ideal = items * 3.0 / scale
    tg_doubts = sum(1 for c in tg_faults if c.fault in ("drop_after", "drop_before", "slow"))
    timeouts = sum(1 for c in tg_faults if c.fault == "slow")
    others = len(tg_faults) + len(x_faults) - tg_doubts
    quiet = support.PROBE_QUIET / scale
    budget = ideal + quiet * tg_doubts + 5.0 * timeouts + 4.0 * others
    return FaultRun(len(tg_faults) + len(x_faults), ambiguous, seconds, ideal, budget, result)


def post_measures(scenario: str, t: support.Tally, *, kills: int) -> list[Measure]:
    """What the fakes saw of the posts after a run with kills: lost, duplicated (goal 0),
    left in doubt (goal ≤ kills), in doubt and shown to no editor (goal 0)."""
    return [
        emit(SCRIPT, f"{scenario}: posts lost", t.lost, goal=0, direction="<="),
        emit(SCRIPT, f"{scenario}: posts duplicated", t.duplicated, goal=0, direction="<="),
        emit(SCRIPT, f"{scenario}: left in doubt", t.in_doubt, goal=kills, direction="<="),
        emit(SCRIPT, f"{scenario}: in doubt, no card", t.in_doubt_unshown, goal=0, direction="<="),
    ]


def report_kills(run: KillRun) -> bool:
    t = run.tally
    print(
        f"kills: {run.kills} kill -9, {run.plans} plans of {t.posts // run.plans} posts,"
        f" {run.seconds:.0f} s; {t.figures()}"
    )
    for line in t.details[:20]:
        print(f"  {line}")
    rows = [
        *post_measures("kill -9", t, kills=run.kills),
        emit(SCRIPT, "kill -9: delivered", t.delivered, goal=t.posts - t.in_doubt, direction=">="),
    ]
    print(
        f"  doubts raised {t.doubts_raised}, settled by the log-chat probe {t.settled_by_probe},"
        f" by X's duplicate check {t.settled_by_x}, left to the editors {t.in_doubt}"
    )
    return all(m.met for m in rows)


def report_faults(run: FaultRun) -> bool:
    t = run.tally
    print(
        f"faults: {run.faults} injected ({run.ambiguous} ambiguous) over {t.posts} posts,"
        f" {run.seconds:.1f} s (ideal {run.ideal:.1f} s, budget with the designed waits"
        f" {run.budget:.1f} s); {t.figures()}"
    )
    for line in t.details[:20]:
        print(f"  {line}")
    automatic = t.settled_by_probe + t.settled_by_x
    rows = [
        emit(SCRIPT, "faults: posts lost", t.lost, goal=0, direction="<="),
        emit(SCRIPT, "faults: posts duplicated", t.duplicated, goal=0, direction="<="),
        emit(
            SCRIPT,
            "faults: in doubt vs ambiguous faults",
            t.in_doubt,
            goal=max(run.ambiguous, 0),
            direction="<=",
        ),
        emit(SCRIPT, "faults: in doubt, no card", t.in_doubt_unshown, goal=0, direction="<="),
        emit(
            SCRIPT,
            "faults: doubts settled automatically",
            automatic,
            goal=t.doubts_raised - t.in_doubt,
            direction=">=",
        ),
        emit(
            SCRIPT,
            "faults: time vs ideal",
            run.seconds,
            baseline=run.ideal,
            goal=round(run.budget / run.ideal, 2),
            direction="<=",
            unit=" s",
        ),
    ]
    return all(m.met for m in rows)


def report_submits(run: intake.SubmitRun) -> bool:
    print(
        f"submits: {run.kills} kill -9, {run.messages} /submit messages of {run.links} links,"
        f" {run.seconds:.0f} s; acknowledged {run.acknowledged}, stored unacknowledged"
        f" {run.stored_unacked}, never stored {run.absent}, repeats answered as such"
        f" {run.already}"
    )
    for line in run.details[:20]:
        print(f"  {line}")
    rows = [
        emit(SCRIPT, "submits: acknowledged, not stored", run.ack_lost, goal=0, direction="<="),
        emit(SCRIPT, "submits: links stored twice", run.doubled, goal=0, direction="<="),
        emit(SCRIPT, "submits: acknowledged twice", run.doubled_acks, goal=0, direction="<="),
        emit(SCRIPT, "submits: pending, no card", run.uncarded, goal=0, direction="<="),
        emit(SCRIPT, "submits: never stored", run.absent, goal=run.kills, direction="<="),
    ]
    return all(m.met for m in rows)


def report_approvals(run: intake.ApprovalRun) -> bool:
    t = run.tally
    print(
        f"approvals: {run.kills} kill -9, {run.links} links, {run.presses} presses"
        f" ({run.double_presses} second presses), {run.decided} approved,"
        f" {run.seconds:.0f} s; {t.figures()}"
    )
    for line in t.details[:20]:
        print(f"  {line}")
    rows = [
        emit(SCRIPT, "approvals: applied twice", run.decided_twice, goal=0, direction="<="),
        emit(SCRIPT, "approvals: pressed, undecided", run.undecided, goal=0, direction="<="),
        emit(SCRIPT, "approvals: outbox rows missing", run.rows_missing, goal=0, direction="<="),
        emit(SCRIPT, "approvals: outbox rows doubled", run.rows_doubled, goal=0, direction="<="),
        *post_measures("approvals", t, kills=run.kills),
    ]
    return all(m.met for m in rows)


def report_queue(run: intake.QueueRun) -> bool:
    t = run.tally
    print(
        f"queue: {run.kills} kill -9, {run.batches} batches, {run.items} queued links"
        f" ({t.posts} posts), {run.seconds:.0f} s; {t.figures()}"
    )
    for line in t.details[:20]:
        print(f"  {line}")
    return all(m.met for m in post_measures("queue", t, kills=run.kills))


async def main_async(args: argparse.Namespace) -> bool:
    say = print
    met = True
    with tempfile.TemporaryDirectory(prefix="weeklybot-chaos-") as tmp:
        work = Path(tmp)
        if args.only in (None, "kills"):
            kills = await run_kills(
                work,
                kills=args.kills,
                seed=args.seed,
                scale=args.scale,
                items=args.items,
                say=say if args.verbose else lambda _: None,
            )
            met &= report_kills(kills)
        if args.only in (None, "faults"):
            faults = await run_faults(
                work,
                rate=args.fault_rate,
                seed=args.seed,
                scale=args.scale,
                items=args.items,
                say=say,
            )
            met &= report_faults(faults)
        quiet = say if args.verbose else lambda _: None
        kills = args.intake_kills
        if args.only in (None, "submits"):
            submits = await intake.run_submits(
                work, kills=kills, seed=args.seed, scale=args.scale, burst=args.burst, say=quiet
            )
            met &= report_submits(submits)
        if args.only in (None, "approvals"):
            approvals = await intake.run_approvals(
                work, kills=kills, seed=args.seed, scale=args.scale, links=args.links, say=quiet
            )
            met &= report_approvals(approvals)
        if args.only in (None, "queue"):
            queue = await intake.run_queue(
                work, kills=kills, seed=args.seed, scale=args.scale, items=args.queued, say=quiet
            )
            met &= report_queue(queue)
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--items", type=int, default=40)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--only", choices=("kills", "faults", "submits", "approvals", "queue"))
    parser.add_argument(
        "--intake-kills", type=int, default=20, help="kills of submits, approvals, queue"
    )
    parser.add_argument("--burst", type=int, default=8, help="submits: /submit per burst")
    parser.add_argument("--links", type=int, default=30, help="approvals: pending links")
    parser.add_argument("--queued", type=int, default=10, help="queue: links per batch")
    parser.add_argument("--quick", action="store_true", help="5 kills, a 10-item plan")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.kills, args.items = 5, 10
        args.intake_kills, args.burst, args.links, args.queued = 3, 5, 6, 4
    return 0 if asyncio.run(main_async(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
