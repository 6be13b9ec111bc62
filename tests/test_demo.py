"""`weeklybot demo` end to end, as a user runs it, at DEBUG: it works and leaks nothing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot.demo import CHANNEL_NAME, DEMO_TOKEN, X_KEYS, sample_issue


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WEEKLYBOT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "--log-level", "DEBUG", "demo"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path_factory.mktemp("demo"),
        timeout=120,
        check=False,
    )


def test_demo_exits_0(demo_run: subprocess.CompletedProcess[str]) -> None:
    assert demo_run.returncode == 0, demo_run.stderr[-3000:]


def test_demo_never_prints_a_secret(demo_run: subprocess.CompletedProcess[str]) -> None:
    output = demo_run.stdout + demo_run.stderr
    assert "level=DEBUG" in output  # the run really logged at DEBUG
    for secret in (DEMO_TOKEN, *X_KEYS.values()):
        assert secret not in output
    assert DEMO_TOKEN.split(":", 1)[1] not in output


def test_transcript_shows_every_platform(demo_run: subprocess.CompletedProcess[str]) -> None:
    out = demo_run.stdout
    assert f"=== Telegram channel @{CHANNEL_NAME} ===" in out
    assert "=== X (@demo user) ===" in out
    assert "[reader #1] /start" in out
    assert "/help - List the commands" in out
    zh, en = sample_issue("zh"), sample_issue("en")
    for section, item in zh.items():
        assert item.title in out, f"zh item {section.kind} {item.index} missing on the channel"
    x_part = out.split("=== X (@demo user) ===", 1)[1]
    for _, item in en.items():
        assert item.url is not None
        assert item.url in x_part
    assert "queued" not in out.split("outbox:", 1)[1].splitlines()[0]
    assert "flood-limit violations seen by the fake Telegram: 0" in out
