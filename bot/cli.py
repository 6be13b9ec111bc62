"""The `weeklybot` command line. Each command loads what it needs lazily."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings, render_settings, secret_values
from bot.log import configure_logging

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("weeklybot")

Command = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    configure_logging(
        args.log_level or settings.log_level,
        fmt=settings.log_format,
        secrets=secret_values(settings),
    )
    return settings


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import run_bot

    settings = _settings(args)
    if args.webhook:
        from bot.serve.webhook import with_webhook

        settings = with_webhook(settings, args.webhook)
    return run_bot(settings, dry_run=args.dry_run)


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.ops.demo import run_demo

    code: int = asyncio.run(run_demo(log_level=args.log_level or "WARNING", out=sys.stdout))
    return code


def cmd_fake_telegram(args: argparse.Namespace) -> int:
    from bot.fakes.telegram import serve_fake_telegram

    configure_logging(args.log_level or "INFO")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve_fake_telegram(
                args.host,
                args.port,
                args.token,
                announce=lambda line: print(line, flush=True),
            )
        )
    return EXIT_OK


def cmd_fake_x(args: argparse.Namespace) -> int:
    from bot.fakes.x import serve_fake_x

    configure_logging(args.log_level or "INFO")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve_fake_x(
                args.host,
                args.port,
                consumer_key=args.consumer_key,
                consumer_secret=args.consumer_secret,
                access_token=args.access_token,
                access_token_secret=args.access_token_secret,
                on_ready=lambda url: print(fake_x_env(url, args), flush=True),
            )
        )
    return EXIT_OK


FAKE_TELEGRAM_TOKEN = "123456789:AAFakeTokenForTheLocalFakeTelegram1"  # noqa: S105 - the fake's
FAKE_TELEGRAM_HELP = """\
It prints, and the bot reads, these settings (HOST:PORT as bound):
  WEEKLYBOT_TELEGRAM__TOKEN=<--token>
  WEEKLYBOT_TELEGRAM__API_BASE_URL=http://HOST:PORT/bot
  WEEKLYBOT_TELEGRAM__CHANNEL_ID=-1001000000001
  WEEKLYBOT_TELEGRAM__EDITOR_IDS=1001
Users 1001 (Editor) and 1002 (Reader) have started the bot. Act as them through
http://HOST:PORT/_control/ (send, press, messages...; see README "Trying the bot by hand").
"""
FAKE_X_HELP = """\
It prints, and the bot reads, these settings (HOST:PORT as bound):
  WEEKLYBOT_X__API_BASE_URL=http://HOST:PORT
  WEEKLYBOT_X__CONSUMER_KEY, WEEKLYBOT_X__CONSUMER_SECRET,
  WEEKLYBOT_X__ACCESS_TOKEN, WEEKLYBOT_X__ACCESS_TOKEN_SECRET = the four keys below
See what was posted at http://HOST:PORT/_control/posts (README "Trying the bot by hand").
"""


def fake_x_env(url: str, args: argparse.Namespace) -> str:
    """The lines to paste into the bot's environment to point it at the fake X."""
    lines = [f"fake X API at {url}; point the bot at it with:", f"WEEKLYBOT_X__API_BASE_URL={url}"]
    for key in ("consumer_key", "consumer_secret", "access_token", "access_token_secret"):
        lines.append(f"WEEKLYBOT_X__{key.upper()}={getattr(args, key)}")
    return "\n".join(lines)


def cmd_parse(args: argparse.Namespace) -> int:
    from bot.domain.parser.cli import run_parse

    return run_parse(args.path, as_json=args.json, stdout=sys.stdout, stderr=sys.stderr)


def cmd_render(args: argparse.Namespace) -> int:
    from bot.ops.render import run_render

    folder, style, pages = args.templates_dir, None, None
    if folder is None:  # the bot's own folder and digest settings
        settings = _settings(args)
        folder = settings.publishing.templates_dir
        style = settings.publishing.channel_style()
        pages = settings.repo.pages
    return run_render(
        args.template,
        issue_file=args.issue,
        lang=args.lang,
        templates_dir=folder,
        style=style,
        pages=pages,
        stdout=sys.stdout,
        stderr=sys.stderr,
    )


def cmd_db_migrate(args: argparse.Namespace) -> int:
    from bot.ops.maintenance import migrate

    settings = _settings(args)
    applied = asyncio.run(migrate(settings.database_path))
    print(f"{settings.database_path}: applied {len(applied)} migration(s) {applied or ''}".rstrip())
    return EXIT_OK


def cmd_db_backup(args: argparse.Namespace) -> int:
    from bot.ops.maintenance import backup

    settings = _settings(args)
    asyncio.run(backup(settings.database_path, args.dest, force=args.force))
    print(f"backed up {settings.database_path} to {args.dest}")
    return EXIT_OK


def cmd_db_restore(args: argparse.Namespace) -> int:
    from bot.ops.backups import BackupRefused, after_restore, restore

    settings = _settings(args)
    # A heartbeat younger than two beats: a bot whose lock this host cannot see.
    limit = None if args.force else 2 * settings.heartbeat_seconds
    try:
        done = restore(args.source, settings.database_path, heartbeat_limit=limit)
    except BackupRefused as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return EXIT_FAIL
    print(f"restored {settings.database_path} from {args.source} (schema {done.check.version})")
    if done.kept is not None:
        print(f"the database it replaced is kept as {done.kept}")
    after = asyncio.run(after_restore(settings.database_path, pause=not args.no_pause))
    for target, states in after.waiting.items():
        counts = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        print(f"outbox {target}: {counts}")
    if after.paused:
        print(
            f"posting paused for {', '.join(after.paused)}: posts sent after the backup was "
            "taken are queued again in it; check the channel and X, /skip those, then /resume"
        )
    return EXIT_OK


def cmd_backfill(args: argparse.Namespace) -> int:
    from bot.ops.maintenance import backfill_issue

    settings = _settings(args)
    done = asyncio.run(backfill_issue(settings, args.number, preview=not args.no_preview))
    head = f"backfill #{args.number}"
    if done.error:
        print(f"{head}: {done.error}", file=sys.stderr)
        return EXIT_FAIL
    if done.preview_id is not None:
        if done.preview_status != "pending":
            print(
                f"{head}: 0 posts queued: the editors already decided its preview"
                f" {done.preview_id} ({done.preview_status}); --no-preview queues it anyway"
            )
        elif done.cards:
            print(f"{head}: preview {done.preview_id} sent to {done.cards} editor chat(s)")
        elif done.cards_before:
            print(f"{head}: preview {done.preview_id} was already sent; waiting for the editors")
        else:
            print(f"{head}: preview {done.preview_id} is waiting; no editor chat could be reached")
            return EXIT_FAIL
        return EXIT_OK
    if done.queued == 0:
        print(f"{head}: 0 posts queued: all already queued or sent")
    else:
        print(f"{head}: {done.queued} post(s) queued; the running bot sends them")
    return EXIT_OK


def cmd_draft(args: argparse.Namespace) -> int:
    """The next issue's draft to FILE or stdout; nothing to draft: a message, exit 1, no file."""
    from bot.draft import draft_from_database

    settings = _settings(args)
    draft = asyncio.run(
        draft_from_database(
            settings.database_path,
            lang=args.lang,
            zone=settings.publishing.zone,
            since=args.since,
        )
    )
    since = draft.since.isoformat() if draft.since else "the start"
    if draft.empty:
        print(
            f"draft #{draft.number}: nothing to draft: no approved link or extra-edition"
            f" item since {since}; no file written",
            file=sys.stderr,
        )
        return EXIT_FAIL
    for warning in draft.warnings:
        print(f"draft #{draft.number}: {warning}", file=sys.stderr)
    if args.output is None:
        sys.stdout.write(draft.markdown)
        return EXIT_OK
    args.output.write_text(draft.markdown, encoding="utf-8")
    counts = ", ".join(f"{n} {kind}" for kind, n in draft.counts())
    print(f"draft #{draft.number} ({draft.lang}, since {since}): {counts} → {args.output}")
    return EXIT_OK


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = _settings(args)
    print(render_settings(settings))
    return EXIT_OK


def cmd_healthcheck(args: argparse.Namespace) -> int:
    """Exit 1 for every unhealthy state, bad configuration included: Docker reserves 2."""
    from bot.ops.maintenance import health

    try:
        settings = _settings(args)
        # The bot beats every heartbeat_seconds: two periods without one is stale.
        max_age = args.max_age or 2 * settings.heartbeat_seconds
        problems = asyncio.run(health(settings.database_path, max_age=max_age))
        server = settings.server
        if server.port:  # the running bot's own view: sources, outbox lag, its database
            from bot.ops.maintenance import endpoint_health, endpoint_url

            problems += asyncio.run(endpoint_health(endpoint_url(server.listen, server.port)))
    except ConfigError as exc:
        problems = [f"bad configuration: {p}" for p in exc.problems]
    except Exception as exc:  # anything else that stops the check is unhealthy too
        problems = [explain(exc)[0]]
    for problem in problems:
        print(f"unhealthy: {problem}", file=sys.stderr)
    if not problems:
        print("healthy")
    return EXIT_FAIL if problems else EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot.ops.archive import import_archive

    settings = _settings(args)
    with Progress(
        TextColumn("importing"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bar:
        task = bar.add_task("files", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = asyncio.run(import_archive(settings, args.path, progress=progress))
    print("\n".join(summary.lines()))
    return EXIT_OK


def cmd_search(args: argparse.Namespace) -> int:
    import json

    from bot.ops.archive import search_archive

    settings = _settings(args)
    found = asyncio.run(search_archive(settings, " ".join(args.words), limit=args.limit))
    if args.json:
        print(json.dumps([r.to_json() for r in found.results], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not found.results:
        print("nothing found")
    for n, r in enumerate(found.results, start=1):
        print(f"{n}. {r.title}\n   #{r.issue} {r.date or 'undated'} {r.lang} {r.section}")
        if r.url:
            print(f"   {r.url}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="weeklybot",
        description="Publish Python Trending Weekly to a Telegram channel and X.",
    )
    parser.add_argument(
        "--config", type=Path, help="TOML settings file (default: $WEEKLYBOT_CONFIG)"
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="override the configured log level",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(
        name: str, func: Command, help_text: str, epilog: str | None = None
    ) -> argparse.ArgumentParser:
        cmd = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.set_defaults(func=func)
        return cmd

    run = add("run", cmd_run, "run the bot (long polling, or webhook mode with --webhook)")
    run.add_argument("--dry-run", action="store_true", help="log posts instead of sending them")
    run.add_argument(
        "--webhook",
        metavar="URL",
        help="webhook mode: Telegram POSTs updates to URL (https); needs"
        " telegram.webhook_secret_token (default: telegram.webhook_url, else long polling)",
    )
    add("demo", cmd_demo, "run the whole bot offline against the bundled fakes")
    fake_tg = add(
        "fake-telegram", cmd_fake_telegram, "serve the fake Telegram Bot API", FAKE_TELEGRAM_HELP
    )
    fake_tg.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    fake_tg.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    fake_tg.add_argument(
        "--token",
        default=FAKE_TELEGRAM_TOKEN,
        help="the bot token to accept (default: %(default)s)",
    )
    fake_x = add("fake-x", cmd_fake_x, "serve the fake X API", FAKE_X_HELP)
    fake_x.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    fake_x.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    for key in ("consumer-key", "consumer-secret", "access-token", "access-token-secret"):
        fake_x.add_argument(
            f"--{key}", default=f"fake-{key}", help=f"the OAuth 1.0a {key} (default: %(default)s)"
        )
    parse = add("parse", cmd_parse, "parse an issue file and print its sections and items")
    parse.add_argument("path", help="the issue's Markdown file")
    parse.add_argument("--json", action="store_true", help="print exactly one JSON object")
    render = add(
        "render",
        cmd_render,
        "print the posts a post template produces (for an issue file, or a bundled sample)",
    )
    render.add_argument("template", help="the template's name, e.g. telegram.item or x.digest")
    render.add_argument("--issue", type=Path, help="an issue's Markdown file (default: a sample)")
    render.add_argument(
        "--lang", choices=["zh", "en"], default="zh", help="the sample's language (no --issue)"
    )
    render.add_argument(
        "--templates-dir",
        type=Path,
        help="a folder of templates to try (default: publishing.templates_dir of the settings)",
    )
    db = add("db", lambda a: EXIT_USAGE, "database maintenance")
    db_sub = db.add_subparsers(dest="db_command", metavar="DB_COMMAND", required=True)
    migrate = db_sub.add_parser(
        "migrate", help="apply pending migrations", description="Apply pending migrations."
    )
    migrate.set_defaults(func=cmd_db_migrate)
    backup = db_sub.add_parser(
        "backup",
        help="copy the live database to PATH (online backup)",
        description="Copy the live database to PATH with SQLite's online backup API.",
    )
    backup.add_argument("dest", type=Path, metavar="PATH")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")
    backup.set_defaults(func=cmd_db_backup)
    restore = db_sub.add_parser(
        "restore",
        help="replace the database with a backup (the bot must be stopped)",
        description="Check a backup (integrity, schema version) and put it in place of the "
        "database; refused while a bot runs on it. The replaced file is kept beside it.",
    )
    restore.add_argument("source", type=Path, metavar="PATH")
    restore.add_argument(
        "--force", action="store_true", help="ignore a fresh heartbeat (the lock still holds)"
    )
    restore.add_argument(
        "--no-pause",
        action="store_true",
        help="do not pause the targets that have posts waiting in the restored outbox",
    )
    restore.set_defaults(func=cmd_db_restore)
    backfill = add("backfill", cmd_backfill, "queue an issue's posts that were never sent")
    backfill.add_argument("number", type=int, help="the issue number, as in its title (#N)")
    backfill.add_argument(
        "--no-preview",
        action="store_true",
        help="queue the posts at once instead of sending the editors a preview card",
    )
    draft = add("draft", cmd_draft, "write the next issue's draft (Markdown) from approved links")
    draft.add_argument(
        "--since",
        type=_iso_date,
        metavar="DATE",
        help="links decided since DATE (YYYY-MM-DD; default: the newest stored issue's date)",
    )
    draft.add_argument("--lang", choices=["zh", "en"], default="zh", help="the draft's language")
    draft.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write to FILE (default: stdout)"
    )
    add("check-config", cmd_check_config, "print the effective configuration, secrets masked")
    imports = add(
        "import",
        cmd_import,
        "store every issue file of a checkout (or of the repository's mirror) for search",
    )
    imports.add_argument(
        "path", type=Path, nargs="?", help="a checkout's folder (default: the configured repo)"
    )
    search = add("search", cmd_search, "search the stored issues' items, as /search does")
    search.add_argument(
        "words", nargs="+", help="words and filters (section:, issue:, year:, lang:)"
    )
    search.add_argument("--json", action="store_true", help="print one JSON list of results")
    search.add_argument(
        "--limit", type=int, default=10, choices=range(1, 201), metavar="N", help="1-200 results"
    )
    health = add(
        "healthcheck",
        cmd_healthcheck,
        "exit 0 if the database is writable and fresh (and, with server.port, /healthz is 200)",
    )
    health.add_argument("--max-age", type=float, help="heartbeat age limit in seconds")
    return parser


def explain(exc: BaseException) -> tuple[str, int]:
    """One line a user can act on, and the exit status, for a command that failed."""
    from telegram.error import InvalidToken, NetworkError

    from bot.ops.start_checks import StartCheckFailed
    from data.db import StorageError

    if isinstance(exc, StartCheckFailed):
        return str(exc), EXIT_USAGE
    if isinstance(exc, InvalidToken):
        return "Telegram refused the bot token; check WEEKLYBOT_TELEGRAM__TOKEN", EXIT_USAGE
    if isinstance(exc, NetworkError):
        return f"cannot reach the Telegram Bot API: {exc.message}", EXIT_FAIL
    if isinstance(exc, StorageError | ValueError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}", EXIT_USAGE
    return f"{type(exc).__name__}: {exc}", EXIT_FAIL


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Command = args.func
    try:
        return func(args)
    except ConfigError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_FAIL
    except Exception as exc:
        # Through logging, whose handler scrubs secrets (an exception's text may
        # carry the token); the traceback only at DEBUG.
        message, code = explain(exc)
        log.debug("command failed", exc_info=True)
        log.critical("weeklybot %s: %s", args.command, message)
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
