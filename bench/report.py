"""One row per measure, shared by every bench script and `make bench`.

A script calls `emit(...)` for each measure it took; the row is printed, and when
`BENCH_JSON` names a file (as `bench/run_all.py` sets it) appended there as one JSON
line, so the table is built from what the scripts measured, not from their prose.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import Literal

Direction = Literal["<=", ">="]


@dataclass(frozen=True, slots=True)
class Measure:
    script: str
    name: str
    value: float
    baseline: float | None  # the same-run baseline the ratio is against, if any
    ratio: float | None  # value / baseline, when there is a baseline
    goal: float  # compared with the ratio when there is one, else with the value
    direction: Direction
    unit: str = ""

    @property
    def met(self) -> bool:
        judged = self.ratio if self.ratio is not None else self.value
        return judged <= self.goal if self.direction == "<=" else judged >= self.goal


def emit(
    script: str,
    name: str,
    value: float,
    *,
    goal: float,
    direction: Direction,
    baseline: float | None = None,
    unit: str = "",
) -> Measure:
    ratio = value / baseline if baseline else None
    measure = Measure(script, name, value, baseline, ratio, goal, direction, unit)
    verdict = "met" if measure.met else "MISSED"
    against = f" vs {baseline:.4g} → ratio {ratio:.2f}" if ratio is not None else ""
    print(f"[{script}] {name}: {value:.4g}{unit}{against} (goal {direction} {goal}) {verdict}")
    out = os.environ.get("BENCH_JSON")
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({**asdict(measure), "met": measure.met}) + "\n")
    return measure
