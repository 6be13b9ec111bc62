"""Time the issue parser against markdown-it-py's own parse of the same corpus files.

Run from the project root: `.venv/bin/python bench/parse_corpus.py [CORPUS_DIR]`.
The goal is a ratio of at most 1.0 (the whole parser no slower than markdown-it-py).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

from markdown_it import MarkdownIt

from bot.domain.parser import NotAnIssue, parse_issue

ROUNDS = 7
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def corpus_files(root: Path) -> list[tuple[str, str]]:
    paths = sorted(p for p in root.rglob("*.md") if p.name not in {"README.md", "FORMAT.md"})
    return [(str(p), p.read_text(encoding="utf-8")) for p in paths]


def best_of(rounds: int, run: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    files = corpus_files(root)
    if not files:
        print(f"no corpus files under {root}", file=sys.stderr)
        return 2
    md = MarkdownIt()  # the default commonmark preset

    def run_parser() -> None:
        for name, text in files:
            with contextlib.suppress(NotAnIssue):
                parse_issue(text, filename=name)

    def run_markdown_it() -> None:
        for _, text in files:
            md.parse(text)

    run_parser()  # warm up: lazy MarkdownIt instance, regex caches, ftfy import
    run_markdown_it()
    parser_s = best_of(ROUNDS, run_parser)
    markdown_s = best_of(ROUNDS, run_markdown_it)
    size = sum(len(text) for _, text in files)
    print(f"{len(files)} files, {size:,} characters, best of {ROUNDS} rounds")
    print(f"weeklybot parser : {parser_s * 1000:8.1f} ms")
    print(f"markdown-it-py   : {markdown_s * 1000:8.1f} ms")
    print(f"ratio            : {parser_s / markdown_s:8.2f}x (goal <= 1.00x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
