"""`.env.example` and `compose.yaml`: every setting, defaults that read back as defaults."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.config import Settings, known_env_names, load_settings
from bot.ops.env_example import render_env_example

ROOT = Path(__file__).parents[1]
SECTIONS = {
    f"WEEKLYBOT_{name}".upper()
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and hasattr(field.annotation, "model_fields")
}
TOKEN = "123456:AAtokentokentokentokentokentoken12"


def test_the_committed_file_is_what_the_settings_print() -> None:
    committed = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert committed == render_env_example(), "run `make env-example`"


def test_every_setting_appears() -> None:
    text = render_env_example()
    names = set(re.findall(r"^(?:# )?(WEEKLYBOT_[A-Z0-9_]+)=", text, re.MULTILINE))
    assert names == known_env_names() - SECTIONS


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.upper().startswith("WEEKLYBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_uncommenting_every_default_changes_nothing(clean_env: Path) -> None:
    """Each default is written the way the loader reads it back."""
    lines = []
    for line in render_env_example().splitlines():
        if line.endswith("# required"):
            name = line.split("=", 1)[0]
            value = TOKEN if name.endswith("TOKEN") else "@pythonweekly"
            lines.append(f"{name}={value}")
        elif re.match(r"# WEEKLYBOT_\w+=", line) and "  # " not in line:
            lines.append(line.removeprefix("# "))  # a default, now set explicitly
    dotenv = clean_env / ".env"
    dotenv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    explicit = load_settings(dotenv=dotenv)
    (clean_env / "minimal.env").write_text(
        f"WEEKLYBOT_TELEGRAM__TOKEN={TOKEN}\nWEEKLYBOT_TELEGRAM__CHANNEL_ID=@pythonweekly\n",
        encoding="utf-8",
    )
    defaults = load_settings(dotenv=clean_env / "minimal.env")
    assert len(lines) > 60
    assert explicit.model_dump() == defaults.model_dump()


def test_compose_runs_the_image_with_the_data_on_a_named_volume() -> None:
    compose = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert re.search(r"^\s+build: \.$", compose, re.MULTILINE)
    assert re.search(r"^\s+env_file: \.env$", compose, re.MULTILINE)
    assert re.search(r"^\s+- weeklybot-data:/data$", compose, re.MULTILINE)
    assert re.search(r"^volumes:\n  weeklybot-data:", compose, re.MULTILINE)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "WEEKLYBOT_DATABASE_PATH=/data/weeklybot.db" in dockerfile  # mirror, backups beside
