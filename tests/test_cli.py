"""The `weeklybot` command line: help everywhere, database chores, health check."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.fakes.telegram import FakeTelegram
from bot.ops.maintenance import HEARTBEAT_COMPONENT, backfill_issue
from data.db import Database
from data.migrations import MIGRATIONS
from data.store import Store
from tests.conftest import EDITOR_ID, settings_for
from tests.test_source_git import Upstream, add_full_201

COMMANDS = [
    "run",
    "demo",
    "fake-telegram",
    "fake-x",
    "parse",
    "render",
    "db",
    "backfill",
    "check-config",
    "healthcheck",
    "import",
    "search",
]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("WEEKLYBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "state" / "weeklybot.db"
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__TOKEN", "123456:AAtokentokentokentokentokentoken12")
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "@pythonweekly")
    monkeypatch.setenv("WEEKLYBOT_DATABASE_PATH", str(database))
    return database


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize(
    "argv", [[c] for c in COMMANDS] + [["db", "migrate"], ["db", "backup"]], ids=" ".join
)
def test_every_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--help"])
    assert exit_info.value.code == 0
    assert "usage: weeklybot" in capsys.readouterr().out


def test_parser_knows_exactly_the_documented_commands() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)  # type: ignore[attr-defined]
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert f"weeklybot {command}" in readme, f"README does not document {command}"


def test_db_migrate_then_again_is_a_no_op(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "migrate"]) == 0
    first = capsys.readouterr().out
    assert f"applied {len(MIGRATIONS)} migration(s)" in first
    assert env.exists()
    assert main(["db", "migrate"]) == 0
    assert "applied 0 migration(s)" in capsys.readouterr().out


def test_db_backup_copies_the_live_database(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "migrate"]) == 0
    dest = tmp_path / "backup.db"
    assert main(["db", "backup", str(dest)]) == 0
    with sqlite3.connect(dest) as copy:
        versions = [row[0] for row in copy.execute("SELECT version FROM schema_version")]
    assert versions == [m.version for m in MIGRATIONS]


def beat(database: Path, at: float) -> None:
    async def go() -> None:
        async with Database.open(database) as db:
            await Store(db).beat(HEARTBEAT_COMPONENT, now=at)

    asyncio.run(go())


def test_healthcheck_needs_a_fresh_heartbeat(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["healthcheck"]) == 1
    assert "no database" in capsys.readouterr().err
    assert main(["db", "migrate"]) == 0
    assert main(["healthcheck"]) == 1
    assert "never recorded a heartbeat" in capsys.readouterr().err
    beat(env, time.time() - 3600)
    assert main(["healthcheck"]) == 1
    assert "last heartbeat" in capsys.readouterr().err
    beat(env, time.time())
    assert main(["healthcheck"]) == 0
    assert capsys.readouterr().out.strip() == "healthy"


def test_parse_command_is_wired(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sample = Path(__file__).parents[1] / "bot" / "samples" / "en" / "2026-11-21-weekly.md"
    assert main(["parse", str(sample)]) == 0
    assert "articles" in capsys.readouterr().out
    missing = tmp_path / "nope.md"
    assert main(["parse", str(missing)]) == 2


def test_db_backup_refuses_bad_destinations_clearly(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "migrate"]) == 0
    capsys.readouterr()
    assert main(["db", "backup", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["db", "backup", str(env)]) == 2
    assert "the database itself" in capsys.readouterr().err
    assert list(tmp_path.glob("*.partial")) == []


def test_db_migrate_on_an_unusable_path_says_so(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("WEEKLYBOT_DATABASE_PATH", str(blocker / "weeklybot.db"))
    assert main(["db", "migrate"]) == 2
    err = capsys.readouterr().err
    assert "weeklybot db:" in err
    assert "Traceback" not in err


# ---- backfill: a preview card for the editors, or queued at once ------------------


def backfill_upstream(tmp_path: Path) -> Upstream:
    upstream = Upstream(tmp_path / "upstream")
    add_full_201(upstream)
    upstream.commit("issue 201")
    return upstream


def test_backfill_no_preview_queues_once_then_says_all_already_queued(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream = backfill_upstream(tmp_path)
    monkeypatch.setenv("WEEKLYBOT_REPO__URL", upstream.root.as_uri())
    monkeypatch.setenv("WEEKLYBOT_REPO__MIRROR_DIR", str(tmp_path / "mirror.git"))
    monkeypatch.setenv("WEEKLYBOT_FEEDS__URLS", "")

    assert main(["backfill", "201", "--no-preview"]) == 0
    first = capsys.readouterr().out
    assert "post(s) queued" in first
    assert int(first.split(": ")[1].split()[0]) > 1  # the digest and the items

    assert main(["backfill", "201", "--no-preview"]) == 0
    assert capsys.readouterr().out.strip() == (
        "backfill #201: 0 posts queued: all already queued or sent"
    )


async def test_backfill_sends_the_editors_the_preview_card_through_the_bot_api(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    upstream = backfill_upstream(tmp_path)
    settings = settings_for(
        fake_telegram,
        tmp_path,
        repo={"enabled": True, "url": upstream.root.as_uri(), "mirror_dir": tmp_path / "m.git"},
    )

    done = await backfill_issue(settings, 201)

    assert done.error is None
    assert done.queued == 0  # nothing until an editor decides
    assert done.cards == 1
    card = fake_telegram.sent(EDITOR_ID)[-1]
    assert card.text is not None
    assert "New issue #201" in card.text
    assert card.callback_data() == {
        f"pv:{a}:{done.preview_id}" for a in ("now", "plan", "edit", "skip")
    }
    async with Database.open(settings.database_path) as db:
        assert await Store(db).outbox.counts() == {}
    # Again: the preview exists and its card went out, so nothing is sent twice.
    again = await backfill_issue(settings, 201)
    assert again.preview_id == done.preview_id
    assert again.cards == 0
    assert again.cards_before == 1
    assert len([m for m in fake_telegram.sent(EDITOR_ID) if m.reply_markup]) == 1


def test_db_backup_refuses_to_overwrite_unless_forced(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "migrate"]) == 0
    dest = tmp_path / "old-backup.db"
    dest.write_bytes(b"the only backup")
    capsys.readouterr()
    assert main(["db", "backup", str(dest)]) == 2
    assert "--force" in capsys.readouterr().err
    assert dest.read_bytes() == b"the only backup"
    assert main(["db", "backup", "--force", str(dest)]) == 0
    with sqlite3.connect(dest) as copy:
        assert copy.execute("SELECT count(*) FROM schema_version").fetchone()[0] == len(MIGRATIONS)


@pytest.mark.parametrize("command", [["db", "migrate"], ["backfill", "1"], ["run"]])
def test_a_database_in_a_folder_that_cannot_exist_is_one_line_and_exit_2(
    command: list[str],
    env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    database = blocker / "weeklybot.db"
    monkeypatch.setenv("WEEKLYBOT_DATABASE_PATH", str(database))
    monkeypatch.setenv("WEEKLYBOT_REPO__URL", str(tmp_path / "no-repo"))
    assert main(command) == 2
    err = capsys.readouterr().err
    assert str(database) in err
    assert "WEEKLYBOT_DATABASE_PATH" in err
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="running as root: file modes do not bind root")
@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_database_is_one_line_and_exit_2(
    what: str, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "migrate"]) == 0
    target = env if what == "file" else env.parent
    target.chmod(0o500 if what == "folder" else 0o400)
    try:
        capsys.readouterr()
        assert main(["db", "migrate"]) == 2
        err = capsys.readouterr().err
        assert str(env) in err
        assert "writable" in err
        assert main(["healthcheck"]) == 1
        assert "writable" in capsys.readouterr().err
    finally:
        target.chmod(0o700)


def test_healthcheck_exits_1_for_bad_configuration_and_a_missing_folder(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEKLYBOT_NO_SUCH_SETTING", "1")
    assert main(["healthcheck"]) == 1
    assert "bad configuration" in capsys.readouterr().err
    monkeypatch.delenv("WEEKLYBOT_NO_SUCH_SETTING")
    monkeypatch.setenv("WEEKLYBOT_DATABASE_PATH", str(tmp_path / "missing" / "weeklybot.db"))
    assert main(["healthcheck"]) == 1
    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()  # the check creates nothing


def test_healthcheck_calls_the_bot_stale_within_two_heartbeats(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEKLYBOT_HEARTBEAT_SECONDS", "30")
    assert main(["db", "migrate"]) == 0
    beat(env, time.time() - 50)  # within two heartbeats: healthy
    assert main(["healthcheck"]) == 0
    beat(env, time.time() - 61)  # two heartbeats missed
    assert main(["healthcheck"]) == 1
    assert "last heartbeat" in capsys.readouterr().err


def test_parse_json_on_a_file_that_is_not_an_issue_prints_one_json_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# shopping list\n\n- eggs\n", encoding="utf-8")
    assert main(["parse", "--json", str(notes)]) == 1
    out = capsys.readouterr().out
    obj = json.loads(out)
    assert obj["error"] == "not an issue"
    assert obj["path"] == str(notes)
    assert out.count("\n") == 1


@pytest.mark.parametrize(
    ("command", "names"),
    [
        ("fake-telegram", ["WEEKLYBOT_TELEGRAM__TOKEN", "WEEKLYBOT_TELEGRAM__API_BASE_URL"]),
        (
            "fake-x",
            [
                "WEEKLYBOT_X__API_BASE_URL",
                "WEEKLYBOT_X__CONSUMER_KEY",
                "WEEKLYBOT_X__ACCESS_TOKEN_SECRET",
            ],
        ),
    ],
)
def test_fake_help_shows_how_to_point_the_bot_at_it(
    command: str, names: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    for name in names:
        assert name in out
    assert "/_control/" in out


def test_the_fake_telegram_default_token_is_one_the_bot_accepts(env: Path) -> None:
    from bot.cli import FAKE_TELEGRAM_TOKEN
    from bot.config import settings_from_values

    settings = settings_from_values(
        {"telegram": {"token": FAKE_TELEGRAM_TOKEN, "channel_id": "@pythonweekly"}}
    )
    assert settings.telegram.token.get_secret_value() == FAKE_TELEGRAM_TOKEN
    out = build_parser().parse_args(["fake-telegram"])
    assert out.token == FAKE_TELEGRAM_TOKEN
