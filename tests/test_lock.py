"""The locked install: the lock files cover pyproject.toml, and `make audit` judges honestly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.ops.audit import judge
from tests.delivery_support import free_port

ROOT = Path(__file__).parents[1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$", re.MULTILINE)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {canonicalize_name(name): version for name, version in PIN.findall(text)}


def project() -> dict[str, list[str]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"": data["dependencies"], **data["optional-dependencies"]}


@pytest.mark.parametrize(
    ("lock", "groups"), [("requirements.lock", [""]), ("requirements-dev.lock", ["", "dev"])]
)
def test_every_dependency_is_locked_within_its_bounds(lock: str, groups: list[str]) -> None:
    locked = pins(lock)
    problems = []
    for group in groups:
        for line in project()[group]:
            req = Requirement(line)
            version = locked.get(canonicalize_name(req.name))
            if version is None:
                problems.append(f"{req.name}: not in {lock}")
            elif not req.specifier.contains(version, prereleases=True):
                problems.append(f"{req.name}: {version} is outside {req.specifier}")
    assert problems == [], "run `make lock` after changing pyproject.toml: " + "; ".join(problems)


def test_the_two_locks_agree_and_every_pin_has_a_hash() -> None:
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert {name: dev.get(name) for name in runtime} == runtime  # the image runs what CI tests
    for lock in ("requirements.lock", "requirements-dev.lock"):
        blocks = (ROOT / lock).read_text(encoding="utf-8").split("\n")
        pinned = [i for i, line in enumerate(blocks) if PIN.match(line)]
        assert pinned
        for i in pinned:
            assert blocks[i + 1].strip().startswith("--hash=sha256:"), blocks[i]


def test_make_and_the_image_install_the_locked_set() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert re.search(r"^lock:", makefile, re.MULTILINE)
    assert re.search(r"^test:.*\baudit\b", makefile, re.MULTILINE)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "--no-deps ." in dockerfile


def report(*deps: dict[str, object]) -> str:
    return json.dumps({"dependencies": list(deps), "fixes": []})


def test_a_known_vulnerability_fails_the_audit_and_names_it() -> None:
    verdict = judge(
        1,
        report(
            {
                "name": "jinja2",
                "version": "3.1.3",
                "vulns": [{"id": "GHSA-h75v-3vvj-5mfj", "fix_versions": ["3.1.4"], "aliases": []}],
            },
            {"name": "httpx", "version": "0.28.1", "vulns": []},
        ),
        "",
    )
    assert verdict.outcome == "fail"
    assert verdict.exit_code == 1
    assert "jinja2 3.1.3: GHSA-h75v-3vvj-5mfj (fixed in 3.1.4)" in "\n".join(verdict.lines)


def test_a_clean_audit_passes_and_counts() -> None:
    verdict = judge(0, report({"name": "httpx", "version": "0.28.1", "vulns": []}), "")
    assert verdict.outcome == "ok"
    assert verdict.lines == ("pip-audit: 1 locked packages audited, no known vulnerabilities",)


def test_a_database_that_knows_no_package_is_a_skip_not_a_pass() -> None:
    skipped = {
        "name": "httpx",
        "skip_reason": "Dependency not found on PyPI and could not be audited",
    }
    verdict = judge(0, report(skipped, {**skipped, "name": "aiohttp"}), "")
    assert verdict.outcome == "skip"
    assert verdict.exit_code == 0
    assert verdict.lines[0].startswith("pip-audit skipped:")
    assert "2 locked packages" in verdict.lines[0]


def test_pip_audit_crashing_for_another_reason_fails() -> None:
    verdict = judge(1, "", "Traceback ...\nValueError: bad requirement line")
    assert verdict.outcome == "fail"
    assert "bad requirement line" in verdict.lines[0]


def test_make_audit_prints_why_it_skips_when_the_database_is_out_of_reach() -> None:
    """The real pip-audit, its service behind a proxy on a loopback port nobody serves."""
    dead = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "HTTPS_PROXY": dead, "https_proxy": dead, "NO_PROXY": "", "no_proxy": ""}
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bot.ops.audit", str(ROOT / "requirements.lock")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("pip-audit skipped: its vulnerability database cannot be")
    assert "Traceback" not in done.stdout
