"""`weeklybot parse PATH [--json]`: show what the parser makes of one issue file."""

from __future__ import annotations

import json
from typing import TextIO

from bot.domain.issue import Issue, NotAnIssue
from bot.domain.issue_json import issue_to_json
from bot.domain.parser._core import parse_issue

EXIT_OK = 0
EXIT_NOT_AN_ISSUE = 1
EXIT_UNREADABLE = 2


def run_parse(path: str, *, as_json: bool, stdout: TextIO, stderr: TextIO) -> int:
    """Parse the file at `path` and print it; return the process exit code.

    Exit 1 with a one-line reason when the file is not an issue, exit 2 when it cannot
    be read or is not UTF-8. Never a traceback.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror or exc}", file=stderr)
        return EXIT_UNREADABLE
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        print(f"error: {path} is not valid UTF-8 (byte {exc.start})", file=stderr)
        return EXIT_UNREADABLE
    try:
        issue = parse_issue(text, filename=path)
    except NotAnIssue as exc:
        reason = " ".join(str(exc).split())
        if as_json:  # still exactly one JSON object on stdout, for scripts
            error = {"error": "not an issue", "path": path, "reason": reason}
            stdout.write(json.dumps(error, ensure_ascii=False) + "\n")
        print(f"not an issue: {path}: {reason}", file=stderr)
        return EXIT_NOT_AN_ISSUE
    if as_json:
        stdout.write(json.dumps(issue_to_json(issue), ensure_ascii=False))
        stdout.write("\n")
    else:
        stdout.write(format_table(issue))
    return EXIT_OK


def format_table(issue: Issue) -> str:
    """A readable overview: the header, then each section with its count and titles."""
    number = f"#{issue.number}" if issue.number is not None else "#?"
    date = issue.date.isoformat() if issue.date else "no date"
    lines = [f"{number}  {date}  {issue.lang}  {issue.form}  {issue.title}"]
    if not issue.sections:
        lines.append("  (no content sections)")
    for section in issue.sections:
        lines.append(f"{section.kind} ({len(section.items)})")
        for item in section.items:
            flags = f"  [{', '.join(sorted(item.flags))}]" if item.flags else ""
            link = "" if item.url else "  (no link)"
            lines.append(f"  {item.index:>2}. {item.title}{link}{flags}")
    lines.extend(f"warning: {w}" for w in issue.warnings)
    return "\n".join(lines) + "\n"
