"""Time the issue parser against markdown-it-py's own parse of the same corpus files.

Run from the project root: `.venv/bin/python bench/parse_corpus.py [--quick] [CORPUS_DIR]`.
The goal is a ratio of at most 1.0 (the whole parser no slower than markdown-it-py).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from markdown_it import MarkdownIt

from bot.domain.parser import NotAnIssue, parse_issue

try:
    from bench.report import emit
except ModuleNotFoundError:  # run as `python bench/<script>.py`: bench/ is on the path
    from report import emit  # type: ignore[no-redef]

ROUNDS = 7
# The shared corpus beside the checkout (as tests/parser_support.py finds it), or
# WEEKLYBOT_CORPUS when it lives elsewhere.
DEFAULT_CORPUS = Path(
    os.environ.get("WEEKLYBOT_CORPUS")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
)


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
    quick = "--quick" in argv
    args = [a for a in argv[1:] if a != "--quick"]
    root = Path(args[0]) if args else DEFAULT_CORPUS
    files = corpus_files(root)
    if not files:
        # Not a miss: the corpus is not part of the project (skipped, with the reason).
        print(f"skipped: no corpus files under {root} (set WEEKLYBOT_CORPUS)")
        return 0
    rounds = 2 if quick else ROUNDS
    if quick:
        files = files[:40]
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
    parser_s = best_of(rounds, run_parser)
    markdown_s = best_of(rounds, run_markdown_it)
    size = sum(len(text) for _, text in files)
    print(f"{len(files)} files, {size:,} characters, best of {rounds} rounds")
    print(f"weeklybot parser : {parser_s * 1000:8.1f} ms")
    print(f"markdown-it-py   : {markdown_s * 1000:8.1f} ms")
    print(f"ratio            : {parser_s / markdown_s:8.2f}x (goal <= 1.00x)")
    measure = emit(
        "parse_corpus",
        "parse vs markdown-it-py",
        parser_s * 1000,
        baseline=markdown_s * 1000,
        goal=1.0,
        direction="<=",
        unit=" ms",
    )
    return 0 if measure.met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
