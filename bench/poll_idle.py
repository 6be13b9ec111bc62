"""Cost of idle polls: an unchanged feed and an unchanged repository, 100 polls each.

Goal per poll: 1 request (a 304 / one `git fetch`), 0 parses, 0 database writes.
Run: ``.venv/bin/python bench/poll_idle.py [--quick]`` (``--quick``: 10 polls each).
Everything is local: an aiohttp feed server on 127.0.0.1 and a git repository in a
temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
from aiohttp import web

from bot.weekly.ingest import Ingester, IssueEvent, poll_repo
from bot.weekly.sources.feed import FeedOptions, FeedSource
from bot.weekly.sources.git_repo import GitRepoSource, RepoOptions
from data.db import Database
from data.migrations import migrate
from data.store import Store

try:
    from bench.report import emit
except ModuleNotFoundError:  # run as `python bench/<script>.py`: bench/ is on the path
    from report import emit  # type: ignore[no-redef]

POLLS = 100
ROOT = Path(__file__).resolve().parent.parent
FEED = (
    b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
    b"<item><title>Python Weekly #201</title><link>https://example.com/201</link></item>"
    b"</channel></rss>"
)


async def bench_feed(store: Store, polls: int) -> dict[str, float]:
    requests = 0

    async def feed(request: web.Request) -> web.Response:
        nonlocal requests
        requests += 1
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(body=FEED, headers={"ETag": '"v1"'})

    app = web.Application()
    app.router.add_get("/feed", feed)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with httpx.AsyncClient() as http:
            source = FeedSource(FeedOptions(url=f"http://127.0.0.1:{port}/feed"), store, http)
            await source.poll()  # baseline
            requests, parses, writes = 0, source.counters.parses, await store.db.total_changes()
            cpu = time.process_time()
            for _ in range(polls):
                await source.poll()
            cpu = time.process_time() - cpu
            return {
                "requests": requests / polls,
                "parses": (source.counters.parses - parses) / polls,
                "db_writes": (await store.db.total_changes() - writes) / polls,
                "cpu_ms": cpu * 1000 / polls,
            }
    finally:
        await runner.cleanup()


def make_upstream(tmp: Path) -> Path:
    """A one-commit repository holding the zh sample issue."""
    upstream = tmp / "upstream"
    (upstream / "docs").mkdir(parents=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    sample = (ROOT / "bot" / "samples" / "zh" / "2026-11-21-weekly.md").read_text("utf-8")
    (upstream / "docs" / "2026-11-21-weekly.md").write_text(sample, "utf-8")
    for args in (
        ["init", "--quiet", "--initial-branch=main"],
        ["add", "-A"],
        ["commit", "--quiet", "-m", "add weekly 901"],
    ):
        subprocess.run(
            ["git", "-c", "user.name=Bench", "-c", "user.email=b@example.invalid", *args],
            cwd=upstream,
            env=env,
            check=True,
        )
    return upstream


async def bench_repo(store: Store, tmp: Path, polls: int) -> dict[str, float]:
    upstream = await asyncio.to_thread(make_upstream, tmp)
    source = GitRepoSource(RepoOptions(mirror_dir=tmp / "mirror.git", url=upstream.as_uri()))
    ingester = Ingester(store, source_name=source.name)

    async def deliver(events: Sequence[IssueEvent]) -> None:
        raise AssertionError("an idle poll delivered events")

    await poll_repo(source, ingester, deliver)  # baseline
    fetches, others = source.counters.fetches, source.counters.other
    parses, writes = ingester.parses, await store.db.total_changes()
    cpu = time.process_time()
    children = _children_cpu()
    wall = time.perf_counter()
    for _ in range(polls):
        result = await poll_repo(source, ingester, deliver)
        assert result.status == "idle", result
    cpu = time.process_time() - cpu
    wall = time.perf_counter() - wall
    children = _children_cpu() - children
    return {
        "requests": (source.counters.fetches - fetches) / polls,
        "other_git_runs": (source.counters.other - others) / polls,
        "parses": (ingester.parses - parses) / polls,
        "db_writes": (await store.db.total_changes() - writes) / polls,
        "cpu_ms": cpu * 1000 / polls,
        "git_cpu_ms": children * 1000 / polls,
        "wall_ms": wall * 1000 / polls,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def main(polls: int) -> bool:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        async with Database.open(tmp / "bench.db") as db:
            await migrate(db, now=time.time())
            store = Store(db)
            feed = await bench_feed(store, polls)
            repo = await bench_repo(store, tmp, polls)
    print(f"idle polls: {polls} each (goal per poll: 1 request, 0 parses, 0 db writes)")
    for name, figures in (("feed", feed), ("repo", repo)):
        shown = ", ".join(f"{key}={value:.3g}" for key, value in figures.items())
        print(f"  {name}: {shown} per poll")
    print("  (cpu_ms: this process; git_cpu_ms: the git child processes)")
    met = True
    for name, figures in (("feed", feed), ("repo", repo)):
        for key, goal in (("requests", 1.0), ("parses", 0.0), ("db_writes", 0.0)):
            met &= emit(
                "poll_idle", f"{name} idle poll {key}", figures[key], goal=goal, direction="<="
            ).met
    return met


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    cli.add_argument("--quick", action="store_true", help="10 polls each")
    cli.add_argument("--polls", type=int, default=POLLS)
    args = cli.parse_args()
    raise SystemExit(0 if asyncio.run(main(10 if args.quick else args.polls)) else 1)
