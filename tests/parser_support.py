"""Helpers shared by the parser tests: where the shared corpus is, and small builders."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.issue import Issue

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The corpus is CC BY-NC-SA test data: read in place, never copied into the project.
CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
WEEKLY = CORPUS / "weekly"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "issues"


def corpus_path(*parts: str) -> Path:
    """Return a corpus path, or skip the test (with the reason) when the corpus is absent."""
    if not WEEKLY.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}: corpus tests skipped")
    path = WEEKLY.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"corpus file {path} not found")
    return path


def counts(issue: Issue) -> tuple[int, int, int, int]:
    """Articles / projects / podcasts / discussions, 0 for a missing section."""
    found = {s.kind: len(s.items) for s in issue.sections}
    return (
        found.get("articles", 0),
        found.get("projects", 0),
        found.get("podcasts", 0),
        found.get("discussions", 0),
    )


def zh_issue(body: str, *, title: str = "Python 潮流周刊#301：测试") -> str:
    """Wrap section text in a minimal zh header, as the newsletter writes it."""
    return f"---\ntitle: '{title}'\npubDate: 2031-03-01\n---\n\n你好，这是测试。\n\n{body}\n"


def en_issue(body: str, *, title: str = "Python Trending Weekly #301 (2031-03-01)") -> str:
    return f"# {title}\n\nWelcome to a test issue.\n\n{body}\n"
