"""bench/run_all.py over a folder of two tiny scripts: one table, the JSON, the exit code."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUN_ALL = ROOT / "bench" / "run_all.py"

SCRIPT = """
import sys
from bench.report import emit

quick = "--quick" in sys.argv
emit({name!r}, "speed", {value} if not quick else {value} / 2, goal={goal}, direction="<=",
     baseline=10.0, unit=" ms")
emit({name!r}, "lost", 0, goal=0, direction="<=")
"""


def write_scripts(folder: Path, *, slow_value: float) -> None:
    folder.mkdir()
    (folder / "alpha.py").write_text(SCRIPT.format(name="alpha", value=5.0, goal=1.0))
    (folder / "beta.py").write_text(SCRIPT.format(name="beta", value=slow_value, goal=1.0))
    (folder / "report.py").write_text("raise SystemExit('report.py is not a bench script')\n")
    (folder / "run_all.py").write_text("raise SystemExit('nor is run_all.py')\n")


def run_all(folder: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(RUN_ALL), "--dir", str(folder), "--json", str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_all_goals_met_one_table_and_json(tmp_path: Path) -> None:
    write_scripts(tmp_path / "b", slow_value=8.0)
    out = tmp_path / "results.json"
    done = run_all(tmp_path / "b", out)
    assert done.returncode == 0, done.stdout + done.stderr
    header = next(line for line in done.stdout.splitlines() if line.startswith("script"))
    assert header.split() == ["script", "measure", "value", "baseline", "ratio", "goal", "met"]
    rows = json.loads(out.read_text())["rows"]
    assert [(r["script"], r["measure"]) for r in rows] == [
        ("alpha", "speed"),
        ("alpha", "lost"),
        ("beta", "speed"),
        ("beta", "lost"),
    ]
    assert rows[2]["ratio"] == 0.8
    assert rows[2]["baseline"] == 10.0
    assert rows[2]["met"] is True
    assert "4 of 4 goals met" in done.stdout


def test_a_missed_goal_exits_non_zero_and_is_marked(tmp_path: Path) -> None:
    write_scripts(tmp_path / "b", slow_value=15.0)  # ratio 1.5 > goal 1.0
    out = tmp_path / "results.json"
    done = run_all(tmp_path / "b", out)
    assert done.returncode == 1
    rows = json.loads(out.read_text())["rows"]
    missed = [(r["script"], r["measure"]) for r in rows if not r["met"]]
    assert missed == [("beta", "speed")]
    assert any("beta" in line and "MISSED" in line for line in done.stdout.splitlines())


def test_quick_and_only_are_passed_on(tmp_path: Path) -> None:
    write_scripts(tmp_path / "b", slow_value=15.0)  # --quick halves it: 7.5, met
    out = tmp_path / "results.json"
    done = run_all(tmp_path / "b", out, "--quick", "--only", "beta")
    assert done.returncode == 0, done.stdout
    rows = json.loads(out.read_text())["rows"]
    assert {r["script"] for r in rows} == {"beta"}
    assert rows[0]["value"] == 7.5


def test_a_crashing_script_is_a_miss_of_its_own(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    write_scripts(folder, slow_value=1.0)
    (folder / "gamma.py").write_text(
        textwrap.dedent(
            """
            from bench.report import emit
            emit("gamma", "half", 0, goal=0, direction="<=")
            raise RuntimeError("boom")
            """
        )
    )
    out = tmp_path / "results.json"
    done = run_all(folder, out)
    assert done.returncode == 1
    rows = json.loads(out.read_text())["rows"]
    assert [r["measure"] for r in rows if r["script"] == "gamma"] == ["half", "(run: exit 1)"]
