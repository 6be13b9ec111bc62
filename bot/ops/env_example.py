"""`.env.example`, written from `bot.config.Settings`, so that it cannot drift from it.

    python -m bot.ops.env_example > .env.example     (or `make env-example`)

Every setting is there with its description; a setting with a default is commented
out with that default as its value, so the file works as it is once the required
ones (the token and the channel) are filled in. `tests/test_env_example.py` checks
that the committed file is exactly what this prints.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from bot.config import ENV_PREFIX, Settings

HEAD = """\
# weeklybot settings: copy to .env (never commit it) and fill in the required ones.
# Written by `make env-example` from bot/config.py; README "Configuration" explains each.
# A commented line shows the default; uncomment it to change the value.
# Lists are comma-separated; times are local HH:MM; an empty value is not the same
# as a commented (unset) one.
"""

# Defaults computed where the bot runs: shown as what they mean, not one machine's value.
COMPUTED = {"database_path": "$XDG_STATE_HOME/weeklybot/weeklybot.db (the image: /data/…)"}


def env_value(value: object) -> str:
    """A default as the environment spells it (what `load_settings` reads back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, SecretStr):
        return ""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        if all(isinstance(v, tuple) and len(v) == 2 for v in value):  # (host, port) pairs
            return ",".join(f"{h}:{p}" for h, p in value)
        if all(isinstance(v, BaseModel) for v in value):  # feeds: [Name](url)
            return " ".join(f"[{v.name}]({v.url})" for v in value)
        return ",".join(env_value(v) for v in value)
    return str(value)


def _field_lines(name: str, field: FieldInfo) -> Iterator[str]:
    description = " ".join((field.description or "").split())
    if description:
        yield f"# {description}"
    if field.is_required():
        yield f"{name}=  # required"
    elif field.default_factory is not None:
        yield f"# {name}=  # default: {COMPUTED.get(name.removeprefix(ENV_PREFIX).lower(), '…')}"
    elif field.default is None:
        yield f"# {name}=  # unset by default"
    else:
        yield f"# {name}={env_value(field.default)}"


def _section_of(field: FieldInfo) -> type[BaseModel] | None:
    annotation: Any = field.annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def render_env_example() -> str:
    lines = [HEAD]
    top: list[str] = []
    for name, field in Settings.model_fields.items():
        section = _section_of(field)
        if section is None:
            top.extend(_field_lines(f"{ENV_PREFIX}{name}".upper(), field))
            continue
        doc = " ".join((section.__doc__ or "").split()) if section.__doc__ else ""
        lines.append(f"# ---- {name} " + "-" * max(60 - len(name), 4))
        if doc and not doc.startswith(section.__name__ + "("):
            lines.append(f"# {doc}")
        for sub, sub_field in section.model_fields.items():
            lines.extend(_field_lines(f"{ENV_PREFIX}{name}__{sub}".upper(), sub_field))
        lines.append("")
    lines.append("# ---- the process " + "-" * 45)
    lines.extend(top)
    lines.append("# A TOML file of settings, read under the environment and .env.")
    lines.append("# WEEKLYBOT_CONFIG=  # unset by default")
    return "\n".join(lines) + "\n"


def main() -> int:
    sys.stdout.write(render_env_example())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
