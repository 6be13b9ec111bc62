"""`make bench`: run every bench script, print one table, write it as JSON.

Each ``bench/*.py`` (except this file and ``report.py``) runs as its own process with
``BENCH_JSON`` naming a temporary file; every ``bench.report.emit`` call of the script
appends one measure there. The table is built from those lines only: one row per
measure (script, measure, value, baseline, ratio, goal, met), written to
``bench/results.json`` (gitignored). A script that fails, times out or emits
nothing gets a row of its own, marked missed; one that exits 0 without a measure
(its input is absent: the shared corpus) gets a "skipped" row with its reason.

Run from the project root: ``.venv/bin/python bench/run_all.py [--quick] [--only NAME]
[--timeout S] [--dir DIR] [--json PATH]``. ``--quick`` is passed on to every script (a
small run of a few seconds each). Exits 1 when any goal is missed, 0 when all are met.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SKIP = {"report.py", "run_all.py"}
COLUMNS = ("script", "measure", "value", "baseline", "ratio", "goal", "met")


@dataclass(frozen=True, slots=True)
class ScriptRun:
    script: str
    returncode: int | None  # None: killed at the timeout
    seconds: float
    rows: tuple[dict[str, Any], ...]
    tail: str  # the last lines of its output, shown when it failed


def scripts_in(folder: Path, only: list[str]) -> list[Path]:
    found = sorted(p for p in folder.glob("*.py") if p.name not in SKIP and p.name[0] != "_")
    if only:
        wanted = {name.removesuffix(".py") for name in only}
        found = [p for p in found if p.stem in wanted]
        missing = wanted - {p.stem for p in found}
        if missing:
            raise SystemExit(f"no bench script named {', '.join(sorted(missing))} in {folder}")
    return found


def run_script(path: Path, *, quick: bool, timeout: float) -> ScriptRun:
    with tempfile.TemporaryDirectory(prefix="weeklybot-bench-") as tmp:
        out = Path(tmp) / "measures.jsonl"
        env = {
            **os.environ,
            "BENCH_JSON": str(out),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        cmd = [sys.executable, str(path), *(["--quick"] if quick else [])]
        started = time.monotonic()
        print(f"--- {path.name}{' --quick' if quick else ''}", flush=True)
        try:
            done = subprocess.run(
                cmd,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                check=False,
            )
            code: int | None = done.returncode
            output = done.stdout
        except subprocess.TimeoutExpired as exc:
            code = None
            raw = exc.stdout or b""
            output = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
        seconds = time.monotonic() - started
        sys.stdout.write(output)
        rows = tuple(
            json.loads(line)
            for line in (out.read_text(encoding="utf-8").splitlines() if out.exists() else [])
            if line.strip()
        )
    tail = "\n".join(output.strip().splitlines()[-5:])
    return ScriptRun(path.stem, code, seconds, rows, tail)


def table_rows(runs: list[ScriptRun]) -> list[dict[str, Any]]:
    """One row per measure; a failed or silent script is a missed row of its own."""
    rows: list[dict[str, Any]] = []
    for run in runs:
        for m in run.rows:
            rows.append(
                {
                    "script": run.script,
                    "measure": m["name"],
                    "value": m["value"],
                    "baseline": m.get("baseline"),
                    "ratio": m.get("ratio"),
                    "goal": f"{m['direction']} {m['goal']:g}",
                    "met": bool(m["met"]),
                    "unit": m.get("unit", ""),
                }
            )
        if run.returncode == 0 and not run.rows:
            last = run.tail.splitlines()[-1] if run.tail else "no measure emitted"
            rows.append(
                {
                    "script": run.script,
                    "measure": f"(skipped: {last[:80]})",
                    "value": None,
                    "baseline": None,
                    "ratio": None,
                    "goal": "-",
                    "met": None,
                    "unit": "",
                }
            )
        elif run.returncode is None or (run.returncode != 0 and all(m["met"] for m in run.rows)):
            # A non-zero exit that no missed measure explains (a crash, a timeout).
            why = (
                f"timed out after {run.seconds:.0f} s"
                if run.returncode is None
                else f"exit {run.returncode}"
            )
            rows.append(
                {
                    "script": run.script,
                    "measure": f"(run: {why})",
                    "value": None,
                    "baseline": None,
                    "ratio": None,
                    "goal": "exit 0",
                    "met": False,
                    "unit": "",
                }
            )
    return rows


def _num(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.4g}{unit}"


def render(rows: list[dict[str, Any]]) -> str:
    cells = [
        [
            r["script"],
            r["measure"],
            _num(r["value"], r.get("unit", "")),
            _num(r["baseline"]),
            _num(r["ratio"]),
            r["goal"],
            "skipped" if r["met"] is None else "met" if r["met"] else "MISSED",
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(COLUMNS)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(COLUMNS, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a small run of every script")
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per script")
    parser.add_argument("--dir", type=Path, default=HERE, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)
    runs = [
        run_script(path, quick=args.quick, timeout=args.timeout)
        for path in scripts_in(args.dir, args.only)
    ]
    rows = table_rows(runs)
    print()
    print(render(rows))
    missed = [r for r in rows if r["met"] is False]
    skipped = [r for r in rows if r["met"] is None]
    args.json.write_text(
        json.dumps(
            {
                "quick": args.quick,
                "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "rows": rows,
                "scripts": {r.script: {"exit": r.returncode, "seconds": r.seconds} for r in runs},
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    judged = len(rows) - len(skipped)
    print(
        f"\n{judged - len(missed)} of {judged} goals met"
        f"{f', {len(skipped)} skipped' if skipped else ''}; table written to {args.json}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
