"""Push → preview card: GitHub's push hook makes a new issue reach the editors at once.

A real git repository upstream, the whole bot (`bot_running`) on the fake Telegram with
its server on (`server.port`), the repository polled only hourly: each round commits a
new issue, POSTs a signed `push` delivery to /github, and times until the preview card
is in the editor's chat. Goal: the slowest round ≤ 2000 ms (the editor's GitHub Action
today; a poll interval, 600 s by default, without the hook).
Run: ``.venv/bin/python bench/webhook.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from report import emit  # bench/report.py: the script's own directory is on sys.path

from bot.app import bot_running
from bot.config import settings_from_values
from bot.fakes.telegram import FakeTelegram
from bot.serve.github_push import signature
from bot.serve.metrics import POLL_SECONDS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "bot" / "samples" / "zh" / "2026-11-21-weekly.md"
SECRET = "bench-github-secret"
EDITOR_ID = 1001
CHANNEL_ID = -1001000000001
GOAL_MS = 2000.0


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(
        ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.invalid", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )


def add_issue(repo: Path, number: int) -> None:
    """A new issue #number: the sample with its number changed, a later date each."""
    text = SAMPLE.read_text(encoding="utf-8").replace("#901", f"#{number}", 1)
    day = 1 + number % 28
    path = repo / "docs" / f"2027-{1 + number // 28 % 12:02d}-{day:02d}-weekly.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", f"add weekly {number}")


async def measure(rounds: int, tmp: Path) -> int:
    upstream = tmp / "upstream"
    upstream.mkdir()
    git(upstream, "init", "--quiet", "--initial-branch=main")
    (upstream / "README.md").write_text("bench\n", encoding="utf-8")
    git(upstream, "add", "-A")
    git(upstream, "commit", "--quiet", "-m", "start")
    async with FakeTelegram(flood_limits=False) as tg:
        tg.add_user(EDITOR_ID, "Editor", "editor")
        tg.add_channel(CHANNEL_ID, "weeklybot_bench", "Bench")
        settings = settings_from_values(
            {
                "telegram": {
                    "token": tg.token,
                    "api_base_url": tg.base_url,
                    "channel_id": CHANNEL_ID,
                    "editor_ids": (EDITOR_ID,),
                },
                "repo": {
                    "url": upstream.as_uri(),
                    "mirror_dir": tmp / "mirror.git",
                    "poll_seconds": 3600,
                    "langs": ("zh",),
                },
                "feeds": {"urls": ()},
                "server": {
                    "port": 0,
                    "github_secret": SECRET,
                    "github_repository": "bench/python-weekly",
                },
                "database_path": tmp / "state" / "weeklybot.db",
                "log_level": "WARNING",
            }
        )
        async with bot_running(settings) as runtime, httpx.AsyncClient() as http:
            assert runtime.ops is not None
            url = f"http://127.0.0.1:{runtime.ops.port}/github"
            board = runtime.watcher.board
            async with asyncio.timeout(30):  # the first scheduled poll: the baseline
                while not any(r.ok_at for r in board.records()):  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
            latencies: list[float] = []
            for number in range(1001, 1001 + rounds):
                add_issue(upstream, number)
                body = json.dumps(
                    {"ref": "refs/heads/main", "repository": {"full_name": "bench/python-weekly"}}
                ).encode()
                headers = {
                    "X-GitHub-Event": "push",
                    "X-Hub-Signature-256": signature(SECRET.encode(), body),
                }
                head = f"New issue #{number}"
                started = time.perf_counter()
                answer = await http.post(url, content=body, headers=headers)
                assert answer.status_code == 202, answer.text
                async with asyncio.timeout(30):
                    while not any(head in (m.text or "") for m in tg.sent(EDITOR_ID)):  # noqa: ASYNC110
                        await asyncio.sleep(0.005)
                latencies.append((time.perf_counter() - started) * 1000)
    polls = {
        s.name: s.value
        for family in POLL_SECONDS.collect()
        for s in family.samples
        if s.labels.get("source") == "repo"
    }
    mean_poll = polls["weeklybot_poll_duration_seconds_sum"] / max(
        polls["weeklybot_poll_duration_seconds_count"], 1
    )
    print(
        f"[webhook] a repository poll (fetch, diff, ingest, cards): {mean_poll * 1000:.0f} ms mean"
    )
    emit(
        "webhook",
        "push → preview card, slowest",
        max(latencies),
        goal=GOAL_MS,
        direction="<=",
        unit=" ms",
    )
    emit(
        "webhook",
        "push → preview card, median",
        statistics.median(latencies),
        goal=GOAL_MS,
        direction="<=",
        unit=" ms",
    )
    return 0 if max(latencies) <= GOAL_MS else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 10")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv[1:])
    rounds = args.rounds or (3 if args.quick else 10)
    with tempfile.TemporaryDirectory(prefix="weeklybot-bench-") as tmp:
        return asyncio.run(measure(rounds, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
