"""Log lines are structured and never carry a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.log import REDACTED, configure_logging

TOKEN = "987654:AAFtopsecrettopsecrettopsecret_123"


@pytest.fixture
def stream() -> io.StringIO:
    out = io.StringIO()
    yield out
    configure_logging("WARNING", stream=io.StringIO())


def test_key_value_line_carries_extra_fields(stream: io.StringIO) -> None:
    configure_logging("INFO", stream=stream)
    logging.getLogger("bot.test").info("post sent", extra={"outbox_id": 7, "target": "x"})
    line = stream.getvalue().strip()
    assert 'event="post sent"' in line
    assert "outbox_id=7" in line
    assert "target=x" in line
    assert line.count("\n") == 0


def test_json_lines(stream: io.StringIO) -> None:
    configure_logging("INFO", fmt="json", stream=stream)
    logging.getLogger("bot.test").warning("update failed", extra={"update_id": 41})
    doc = json.loads(stream.getvalue())
    assert doc["event"] == "update failed"
    assert doc["update_id"] == 41


def test_known_secret_is_scrubbed_everywhere_even_in_tracebacks(stream: io.StringIO) -> None:
    configure_logging("DEBUG", secrets=["s3cr3t-consumer"], stream=stream)
    log = logging.getLogger("bot.test")
    log.debug("consumer is s3cr3t-consumer")
    try:
        raise RuntimeError("failed with s3cr3t-consumer")
    except RuntimeError:
        log.exception("boom")
    assert "s3cr3t-consumer" not in stream.getvalue()
    assert f'event="consumer is {REDACTED}"' in stream.getvalue()
    assert f"RuntimeError: failed with {REDACTED}" in stream.getvalue()


def test_unknown_bot_token_in_a_url_is_scrubbed(stream: io.StringIO) -> None:
    configure_logging("DEBUG", stream=stream)
    logging.getLogger("telegram.ext").debug(f"POST https://api.telegram.org/bot{TOKEN}/getMe")
    assert TOKEN not in stream.getvalue()
    assert f"/bot{REDACTED}/getMe" in stream.getvalue()


def test_oauth_header_is_scrubbed(stream: io.StringIO) -> None:
    configure_logging("DEBUG", stream=stream)
    logging.getLogger("bot.x").debug(
        'Authorization: OAuth oauth_consumer_key="ck-public-9", oauth_signature="sig%2B123"'
    )
    assert "sig%2B123" not in stream.getvalue()
    assert "ck-public-9" not in stream.getvalue()
    assert REDACTED in stream.getvalue()


def test_noisy_libraries_are_quieted_at_debug(stream: io.StringIO) -> None:
    configure_logging("DEBUG", stream=stream)
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("tweepy").getEffectiveLevel() == logging.INFO
