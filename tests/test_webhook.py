"""Webhook mode end to end: PTB's webhook server fed by the fake Telegram, and GitHub's
push hook on the bot's own server waking the repository poll.

The bot runs whole (`bot_running`); the fake Telegram delivers each update by POSTing
it to the URL the bot gave setWebhook, with the secret token header, as Telegram does.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import bot_running
from bot.cli import main
from bot.config import ConfigError, load_settings, settings_from_values
from bot.fakes.telegram import FakeTelegram
from bot.serve.github_push import judge_push, repository_of, signature
from bot.serve.webhook import with_webhook
from tests.conftest import CHANNEL_ID, EDITOR_ID, READER_ID, TOKEN, settings_for
from tests.delivery_support import eventually
from tests.test_source_git import SUMMARY_201, Upstream, fixture_text
from tests.url_support import Table
from tests.webhook_support import (
    GITHUB_SECRET,
    WEBHOOK_SECRET,
    free_port,
    ops_server,
    push,
    webhook_telegram,
)


def start_update(update_id: int, text: str = "/start") -> dict[str, Any]:
    """A reader's command as Telegram would POST it to the webhook."""
    command = text.split()[0]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": READER_ID, "type": "private", "first_name": "Reader"},
            "from": {"id": READER_ID, "is_bot": False, "first_name": "Reader"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


async def test_a_wrong_or_missing_secret_token_is_403_and_nothing_is_processed(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    telegram = webhook_telegram(fake_telegram, port)
    settings = settings_for(fake_telegram, tmp_path, telegram=telegram)
    async with bot_running(settings), httpx.AsyncClient() as http:
        hook = fake_telegram.api.updates.webhook
        assert hook is not None  # the bot called setWebhook with its URL and secret
        assert hook.url == telegram["webhook_url"]
        assert hook.secret_token == WEBHOOK_SECRET
        url = telegram["webhook_url"]
        header = "X-Telegram-Bot-Api-Secret-Token"
        missing = await http.post(url, json=start_update(900001))
        wrong = await http.post(url, json=start_update(900002), headers={header: "not-it"})
        empty = await http.post(url, json=start_update(900003), headers={header: ""})
        assert (missing.status_code, wrong.status_code, empty.status_code) == (403, 403, 403)
        # The same update with the token is taken: only the secret made the difference.
        good = await http.post(url, json=start_update(900004), headers={header: WEBHOOK_SECRET})
        assert good.status_code == 200

        async def welcomed() -> bool:
            return bool(fake_telegram.sent(READER_ID))

        await eventually(welcomed)
    # Updates are handled in order: a refused one, had it been queued, would have been
    # answered before the last. One answer: the three refused did nothing.
    assert len(fake_telegram.sent(READER_ID)) == 1
    assert fake_telegram.calls_of("getUpdates") == []


async def test_submit_in_webhook_mode_end_to_end(
    fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    settings = settings_for(
        fake_telegram,
        tmp_path,
        telegram=webhook_telegram(fake_telegram, port),
        submissions={"cooldown_seconds": 0},
    )
    async with bot_running(settings, resolver=Table({})):
        sent = fake_telegram.user_sends(READER_ID, "/submit https://blog.example.com/fast-csv")

        async def receipt() -> bool:
            return any(
                (m.text or "").startswith("Received, #") for m in fake_telegram.sent(READER_ID)
            )

        async def card() -> bool:
            return any("📥 Submitted" in (m.text or "") for m in fake_telegram.sent(EDITOR_ID))

        await eventually(receipt)
        await eventually(card)
        hook = fake_telegram.api.updates.webhook
        assert hook is not None
        assert hook.last_error_message is None  # every delivery was acknowledged
    assert fake_telegram.calls_of("getUpdates") == []
    assert sent.message_id > 0


@pytest.mark.parametrize("mode", ["webhook", "polling"])
async def test_a_signed_push_previews_at_once_and_a_bad_one_does_nothing(
    fake_telegram: FakeTelegram, tmp_path: Path, mode: str
) -> None:
    """GitHub's hook on the bot's server (in either mode): push → preview card → the
    editor's press (by webhook or long polling) → the channel."""
    upstream = Upstream(tmp_path / "upstream")
    repo = {
        "url": upstream.root.as_uri(),
        "mirror_dir": tmp_path / "mirror.git",
        "poll_seconds": 3600,  # only the hook can bring the issue in within the test
        "langs": ("zh",),
    }
    settings = settings_for(
        fake_telegram,
        tmp_path,
        telegram=webhook_telegram(fake_telegram, free_port())
        if mode == "webhook"
        else {
            "token": TOKEN,
            "api_base_url": fake_telegram.base_url,
            "channel_id": CHANNEL_ID,
            "editor_ids": (EDITOR_ID,),
        },
        repo=repo,
        server=ops_server(),
    )
    async with bot_running(settings) as runtime, httpx.AsyncClient() as http:
        assert runtime.ops is not None
        watcher = runtime.watcher
        assert watcher.repo is not None
        name = watcher.repo.name

        async def baseline() -> bool:  # the first scheduled poll: the baseline
            return any(r.name == name and r.ok_at for r in watcher.board.records())

        await eventually(baseline)
        upstream.write(f"docs/{SUMMARY_201}", fixture_text("zh", SUMMARY_201))
        upstream.commit("add weekly 201")
        url = f"http://127.0.0.1:{runtime.ops.port}/github"
        body, headers = push()
        refused = {
            "bad signature": (body, {**headers, "X-Hub-Signature-256": signature(b"no", body)}),
            "no signature": (
                body,
                {k: v for k, v in headers.items() if k != "X-Hub-Signature-256"},
            ),
            "another repository": push("someone/else"),
            "another event": push(event="issues"),
            "tampered body": (body.replace(b"main", b"mainx"), headers),
        }
        answers = {
            why: (await http.post(url, content=b, headers=h)).status_code
            for why, (b, h) in refused.items()
        }
        assert answers == {
            "bad signature": 401,
            "no signature": 401,
            "another repository": 403,
            "another event": 400,
            "tampered body": 401,
        }
        assert watcher.wakes == 0
        assert not [m for m in fake_telegram.sent(EDITOR_ID) if "New issue #201" in (m.text or "")]

        answer = await http.post(url, content=body, headers=headers)
        assert answer.status_code == 202
        assert watcher.wakes == 1

        def preview_cards() -> list[Any]:
            return [
                m
                for m in fake_telegram.sent(EDITOR_ID)
                if "New issue #201" in (m.text or "") and m.callback_data()
            ]

        async def previewed() -> bool:
            return bool(preview_cards())

        await eventually(previewed)
        card = preview_cards()[0]
        now = next(d for d in card.callback_data() if d.startswith("pv:now:"))
        fake_telegram.press(EDITOR_ID, EDITOR_ID, card.message_id, now)

        async def published() -> bool:
            return bool(fake_telegram.sent(CHANNEL_ID))

        await eventually(published)
    polls = fake_telegram.calls_of("getUpdates")
    assert (polls == []) == (mode == "webhook")


def test_push_verdicts_are_pure_and_constant_time_compared() -> None:
    body, headers = push()
    secret = GITHUB_SECRET.encode()
    judged = judge_push(body, headers, secret=secret, repository="Cat/Python-Weekly", branch="main")
    assert (judged.action, judged.status) == ("poll", 202)  # owner/name case-insensitive
    lower = {k.lower(): v for k, v in headers.items()}
    assert judge_push(body, lower, secret=secret, repository=None, branch="main").action == "poll"
    other = judge_push(body, headers, secret=secret, repository=None, branch="dev")
    assert (other.action, other.status) == ("ignore", 202)  # another branch: nothing to poll
    ping = judge_push(*push(event="ping"), secret=secret, repository=None, branch="main")
    assert (ping.action, ping.status) == ("ignore", 200)
    junk = b"not json"
    signed = {**headers, "X-Hub-Signature-256": signature(secret, junk)}
    assert judge_push(junk, signed, secret=secret, repository=None, branch="main").status == 400
    assert repository_of("https://github.com/chinesehuazhou/python-weekly.git") == (
        "chinesehuazhou/python-weekly"
    )
    assert repository_of("/srv/weekly") is None


@pytest.mark.parametrize(
    ("url", "secret", "expected"),
    [
        ("https://bot.example.com/tg", None, "webhook_secret_token"),
        ("http://bot.example.com/tg", WEBHOOK_SECRET, "must be https"),
        ("https://bot.example.com/tg", "has spaces in it", "A-Z a-z 0-9 _ -"),
        ("ftp://bot.example.com/tg", WEBHOOK_SECRET, "not an http(s) URL"),
    ],
)
def test_webhook_settings_are_refused_with_the_reason(
    url: str, secret: str | None, expected: str, tmp_path: Path
) -> None:
    toml = f'[telegram]\ntoken = "{TOKEN}"\nchannel_id = {CHANNEL_ID}\nwebhook_url = "{url}"\n'
    if secret is not None:
        toml += f'webhook_secret_token = "{secret}"\n'
    config = tmp_path / "weeklybot.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, dotenv=tmp_path / ".env")
    told = caught.value.render()
    assert expected in told
    assert "telegram" in told
    assert (secret or "\0") not in told  # a secret is never echoed
    assert TOKEN not in told
    polling = settings_from_values({"telegram": {"token": TOKEN, "channel_id": CHANNEL_ID}})
    with pytest.raises(ConfigError) as refused:
        with_webhook(polling, url)
    assert "--webhook" in refused.value.render()
    assert expected in refused.value.render()


def test_run_with_webhook_but_no_secret_token_exits_2_and_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "weeklybot.toml"
    config.write_text(
        f'database_path = "{tmp_path / "db.sqlite"}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\nchannel_id = {CHANNEL_ID}\n',
        encoding="utf-8",
    )
    code = main(["--config", str(config), "run", "--webhook", "https://bot.example.com/tg"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--webhook: webhook mode needs telegram.webhook_secret_token" in err
    assert "WEEKLYBOT_TELEGRAM__WEBHOOK_SECRET_TOKEN" in err
    assert not (tmp_path / "db.sqlite").exists()  # refused before anything started
