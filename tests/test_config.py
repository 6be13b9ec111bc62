"""Bad configuration stops the bot with one clear message and exit status 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.cli import main
from bot.config import (
    ConfigError,
    known_env_names,
    load_settings,
    render_settings,
    secret_values,
    settings_from_values,
)
from bot.domain.issue import IssuePages

TOKEN = "123456:AAHsecretsecretsecretsecretsecret12"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.upper().startswith("WEEKLYBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout


@pytest.fixture
def good_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "-1001234567890")


def check_config(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([*argv, "check-config"])
    out, err = capsys.readouterr()
    return code, out, err


def load_refused() -> str:
    """Load the settings, which must fail; return the message the user is shown."""
    with pytest.raises(ConfigError) as info:
        load_settings()
    return info.value.render()


def test_good_config_prints_effective_settings_with_secrets_masked(
    good_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__EDITOR_IDS", "11, 22")
    code, out, _ = check_config(capsys)
    assert code == 0
    assert "telegram.channel_id = -1001234567890" in out
    assert "telegram.editor_ids = (11, 22)" in out
    assert "telegram.token = **********" in out
    assert TOKEN not in out


def test_missing_token(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "@pythonweekly")
    code, out, err = check_config(capsys)
    assert code == 2
    assert out == ""
    assert "telegram.token: missing; set WEEKLYBOT_TELEGRAM__TOKEN" in err
    assert "Traceback" not in err


def test_malformed_channel_id(
    good_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "my channel")
    code, _, err = check_config(capsys)
    assert code == 2
    assert "telegram.channel_id: 'my channel' is not a chat id" in err
    assert "WEEKLYBOT_TELEGRAM__CHANNEL_ID" in err


def test_positive_channel_id_is_a_user_not_a_channel(
    good_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "42")
    with pytest.raises(ConfigError, match="channel ids are negative"):
        load_settings()


def test_unknown_key_in_config_file(
    good_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "weeklybot.toml"
    config.write_text('log_level = "debug"\n[telegram]\neditor_idz = [1]\n', encoding="utf-8")
    code, _, err = check_config(capsys, "--config", str(config))
    assert code == 2
    assert f"telegram.editor_idz: unknown key in {config}" in err


def test_unknown_environment_variable_suggests_the_right_name(
    good_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__EDITORS", "1")
    code, _, err = check_config(capsys)
    assert code == 2
    assert "WEEKLYBOT_TELEGRAM__EDITORS (in environment): unknown setting" in err
    assert "did you mean WEEKLYBOT_TELEGRAM__EDITOR_" in err


def test_unknown_variable_in_dotenv(good_env: None, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("WEEKLYBOT_LOGLEVEL=debug\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"WEEKLYBOT_LOGLEVEL \(in \.env\): unknown setting"):
        load_settings()


def test_every_problem_is_listed_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "not-a-chat")
    monkeypatch.setenv("WEEKLYBOT_BOGUS", "1")
    config = tmp_path / "c.toml"
    config.write_text("colour = 'blue'\n", encoding="utf-8")
    code, _, err = check_config(capsys, "--config", str(config))
    assert code == 2
    assert "has 4 problems" in err
    for needle in ("telegram.token: missing", "channel_id", "WEEKLYBOT_BOGUS", "colour"):
        assert needle in err


def test_partial_x_credentials_are_refused_without_echoing_them(
    good_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEEKLYBOT_X__CONSUMER_KEY", "ck-very-secret")
    rendered = load_refused()
    assert "missing: consumer_secret, access_token, access_token_secret" in rendered
    assert "ck-very-secret" not in rendered


def test_precedence_env_over_dotenv_over_file(
    good_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('log_level = "ERROR"\nheartbeat_seconds = 5\n', encoding="utf-8")
    (tmp_path / ".env").write_text("WEEKLYBOT_LOG_LEVEL=warning\n", encoding="utf-8")
    monkeypatch.setenv("WEEKLYBOT_CONFIG", str(config))
    settings = load_settings()
    assert settings.log_level == "WARNING"  # .env beats the file
    assert settings.heartbeat_seconds == 5  # the file beats the default
    monkeypatch.setenv("WEEKLYBOT_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"  # the environment beats .env
    assert "heartbeat_seconds = 5.0" in render_settings(load_settings())


def test_unreadable_config_file(good_env: None, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(tmp_path / "absent.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[telegram\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_installed_command_exits_2_without_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("WEEKLYBOT_")}
    env["WEEKLYBOT_TELEGRAM__CHANNEL_ID"] = "nope"
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "check-config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("weeklybot: the configuration has 2 problems:")
    assert "Traceback" not in proc.stderr


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    sections = {
        f"WEEKLYBOT_{name.upper()}"
        for name in ("telegram", "x", "github", "repo", "feeds", "publishing")
    }
    missing = [
        name
        for name in sorted(known_env_names() - sections)
        # a row may abbreviate its section: `…__TELEGRAM_ITEMS`
        if name not in readme and ("__" not in name or "__" + name.split("__")[1] not in readme)
    ]
    assert missing == []


@pytest.mark.parametrize("token", ["", "   ", "not-a-token", "123:short"])
def test_empty_or_malformed_token_is_refused_without_echoing_it(
    good_env: None, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__TOKEN", token)
    rendered = load_refused()
    assert "telegram.token: not a bot token" in rendered
    assert "WEEKLYBOT_TELEGRAM__TOKEN" in rendered
    if token.strip():
        assert token not in rendered


def test_a_bad_list_entry_names_the_list_variable(
    good_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__EDITOR_IDS", "11,bob")
    rendered = load_refused()
    assert "fix WEEKLYBOT_TELEGRAM__EDITOR_IDS or" in rendered
    assert "EDITOR_IDS__1" not in rendered


def test_x_base_url_must_be_http(good_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEEKLYBOT_X__API_BASE_URL", "ftp:/x")
    with pytest.raises(ConfigError, match=r"x\.api_base_url: 'ftp:/x' must start with http"):
        load_settings()


def test_credentials_in_the_repository_url_are_masked_and_scrubbed(
    good_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://bot:ghp_secretsecret@github.com/chinesehuazhou/python-weekly.git"
    monkeypatch.setenv("WEEKLYBOT_REPO__URL", url)
    code, out, _ = check_config(capsys)
    assert code == 0
    assert "repo.url = 'https://***@github.com/chinesehuazhou/python-weekly.git'" in out
    assert "ghp_secretsecret" not in out
    assert "ghp_secretsecret" in secret_values(load_settings())


def test_preview_allow_is_read_as_host_port_pairs(
    good_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings().submissions.preview_allow == ()
    monkeypatch.setenv("WEEKLYBOT_SUBMISSIONS__PREVIEW_ALLOW", "127.0.0.1:8080, [::1]:9000")
    assert load_settings().submissions.preview_allow == (("127.0.0.1", 8080), ("::1", 9000))
    monkeypatch.setenv("WEEKLYBOT_SUBMISSIONS__PREVIEW_ALLOW", "127.0.0.1")
    rendered = load_refused()
    assert "submissions.preview_allow: '127.0.0.1' is not host:port" in rendered
    assert "WEEKLYBOT_SUBMISSIONS__PREVIEW_ALLOW" in rendered


def test_issue_links_follow_the_repository_setting() -> None:
    def pages(**repo: str) -> IssuePages | None:
        return settings_from_values(
            {"telegram": {"token": TOKEN, "channel_id": -100123}, "repo": repo}
        ).repo.pages

    newsletter = IssuePages("https://github.com/chinesehuazhou/python-weekly", "main")
    assert pages() == newsletter
    fork = pages(url="https://bot:ghp_secret@github.com/me/weekly.git/", branch="dev")
    assert fork == IssuePages("https://github.com/me/weekly", "dev")  # no credentials
    assert pages(url="/srv/weekly") is None  # a local path has no public page
    assert pages(url="/srv/weekly", web_url="https://github.com/me/weekly") == IssuePages(
        "https://github.com/me/weekly", "main"
    )
    with pytest.raises(ValidationError, match="must start with http"):
        pages(web_url="github.com/me/weekly")


def test_submission_limits_have_defaults_and_refuse_nonsense(
    good_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    limits = load_settings().submissions
    assert (limits.daily_cap, limits.cooldown_seconds) == (5, 60)
    assert (limits.max_pending_per_user, limits.max_pending_total) == (3, 200)
    monkeypatch.setenv("WEEKLYBOT_SUBMISSIONS__DAILY_CAP", "12")
    monkeypatch.setenv("WEEKLYBOT_SUBMISSIONS__COOLDOWN_SECONDS", "0")
    assert load_settings().submissions.daily_cap == 12
    assert load_settings().submissions.cooldown_seconds == 0
    monkeypatch.setenv("WEEKLYBOT_SUBMISSIONS__MAX_PENDING_TOTAL", "0")
    assert "WEEKLYBOT_SUBMISSIONS__MAX_PENDING_TOTAL" in load_refused()
