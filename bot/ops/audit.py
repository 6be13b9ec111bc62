"""`make audit`: pip-audit over the locked set, skipped with a reason when it cannot ask.

    python -m bot.ops.audit requirements-dev.lock [--service pypi|osv]

pip-audit reads the pinned, hashed lock file as it is (`--disable-pip`: nothing is
installed or resolved) and asks its vulnerability database about each package. The
verdict (`judge`, pure) is one of three:

- fail (exit 1): a locked package has a known vulnerability, or pip-audit itself broke;
- skip (exit 0, printed with the reason): the database cannot be reached (no network,
  a proxy, DNS) or answered for none of the packages (a registry mirror without the
  JSON API answers "not found" for every one), so nothing could be checked;
- ok (exit 0): every package it could ask about is clean.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

# What requests/urllib3 say when the service is out of reach.
UNREACHABLE = (
    "ConnectionError",
    "ProxyError",
    "NameResolutionError",
    "Max retries exceeded",
    "Failed to establish a new connection",
    "Connection refused",
    "timed out",
    "Temporary failure in name resolution",
)
NOT_FOUND = "not found on PyPI"


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Literal["ok", "skip", "fail"]
    lines: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return 1 if self.outcome == "fail" else 0


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def judge(returncode: int, stdout: str, stderr: str) -> Verdict:
    """What one pip-audit run (`-f json`) means for `make test`."""
    try:
        report: Any = json.loads(stdout) if stdout.strip() else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict):
        if any(marker in stderr for marker in UNREACHABLE):
            return Verdict(
                "skip",
                (
                    "pip-audit skipped: its vulnerability database cannot be reached "
                    f"({_last_line(stderr)})",
                ),
            )
        return Verdict("fail", (f"pip-audit failed (exit {returncode}): {_last_line(stderr)}",))
    deps = [d for d in report.get("dependencies", []) if isinstance(d, dict)]
    vulnerable = [d for d in deps if d.get("vulns")]
    if vulnerable:
        lines = [f"pip-audit: {len(vulnerable)} locked package(s) with known vulnerabilities:"]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                lines.append(
                    f"  {dep.get('name')} {dep.get('version')}: {vuln.get('id')} (fixed in {fixes})"
                )
        lines.append("Raise the bound in pyproject.toml if needed, then `make lock`.")
        return Verdict("fail", tuple(lines))
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if "skip_reason" in d]
    if deps and not audited:
        reason = str(skipped[0].get("skip_reason", ""))
        why = (
            "it answered 'not found' for every package (a registry mirror without the JSON API?)"
            if all(NOT_FOUND in str(d.get("skip_reason", "")) for d in skipped)
            else f"it audited none of them ({reason})"
        )
        return Verdict(
            "skip",
            (
                f"pip-audit skipped: its vulnerability database cannot be used for the "
                f"{len(deps)} locked packages: {why}",
            ),
        )
    note = f"; {len(skipped)} not audited" if skipped else ""
    return Verdict(
        "ok",
        (f"pip-audit: {len(audited)} locked packages audited, no known vulnerabilities{note}",),
    )


def run(lock: str, *, service: str = "pypi", timeout: float = 600) -> Verdict:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--disable-pip",  # the lock is pinned and hashed: audit it as it is
        "--requirement",
        lock,
        "--vulnerability-service",
        service,
        "--format",
        "json",
        "--progress-spinner",
        "off",
    ]
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return Verdict(
            "skip", (f"pip-audit skipped: no answer from its database in {timeout:.0f}s",)
        )
    return judge(done.returncode, done.stdout, done.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.ops.audit", description=__doc__)
    parser.add_argument("lock", help="a lock file written by `make lock`")
    parser.add_argument("--service", choices=["pypi", "osv"], default="pypi")
    args = parser.parse_args(argv)
    verdict = run(args.lock, service=args.service)
    for line in verdict.lines:
        print(line, flush=True)
    return verdict.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
