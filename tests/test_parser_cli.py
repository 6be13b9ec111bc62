"""`run_parse`: the table, the JSON contract, and exit codes 1 and 2 without tracebacks."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from bot.domain.parser.cli import run_parse
from tests.parser_support import FIXTURES


def run(path: Path | str, *, as_json: bool) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_parse(str(path), as_json=as_json, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def copy_fixture(tmp_path: Path, name: str, dest: str) -> Path:
    target = tmp_path / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(FIXTURES / name, target)
    return target


def test_json_follows_the_contract(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "2031-01-04-weekly.md", "zh/2031-01-04-weekly.md")
    code, out, err = run(path, as_json=True)
    assert (code, err) == (0, "")
    assert out.count("\n") == 1  # exactly one JSON object
    data = json.loads(out)
    assert {k: data[k] for k in ("number", "date", "lang", "form")} == {
        "number": 201,
        "date": "2031-01-04",
        "lang": "zh",
        "form": "full",
    }
    assert data["title"].startswith("Python 潮流周刊#201")
    assert [s["kind"] for s in data["sections"]] == [
        "articles",
        "projects",
        "podcasts",
        "discussions",
    ]
    first = data["sections"][0]["items"][0]
    assert first == first | {
        "index": 1,
        "number_as_written": "1",
        "title": "用纸飞机测试异步代码",
        "url": "https://example.com/paper-planes",
        "lang_tag": "(英)",
        "images": [],
        "stars": [],
        "credit": "@折纸君",
        "sub_links": [],
        "flags": [],
    }
    assert "\\_\\_aexit" in first["description_md"]
    assert "__aexit__" in first["description"]
    project = data["sections"][1]["items"][0]
    assert project["stars"] == [12800]
    assert project["images"] == [
        {"url": "https://img.pythoncat.top/kite-lint.png", "alt": "kite-lint 示意图"}
    ]
    deleted = data["sections"][1]["items"][2]
    assert deleted["url"] is None
    assert deleted["flags"] == ["deleted", "no_link"]


def test_special_issue_json(tmp_path: Path) -> None:
    path = tmp_path / "2024-06-10-weekly.md"
    path.write_text(
        "# Python 潮流周刊#55：信息源\n\n## 1、Kite News\n\n[k](https://e.com)\n", "utf-8"
    )
    code, out, _ = run(path, as_json=True)
    data = json.loads(out)
    assert code == 0
    assert (data["form"], data["sections"], data["number"]) == ("special", [], 55)


def test_table_lists_sections_counts_and_titles() -> None:
    code, out, err = run(FIXTURES / "2031-01-11-weekly.md", as_json=False)
    assert (code, err) == (0, "")
    assert "#202  2031-01-11  zh  summary" in out
    assert "articles (3)" in out
    assert "projects (2)" in out
    assert "kite-lint：给风筝写的代码检查器" in out


def test_not_an_issue_exits_1_with_one_line(tmp_path: Path) -> None:
    path = copy_fixture(tmp_path, "2031-02-01-sweekly.md", "2031-02-01-weekly.md")
    code, out, err = run(path, as_json=True)
    assert code == 1
    assert out.count("\n") == 1  # one JSON object naming the error
    refused = json.loads(out)
    assert refused["error"] == "not an issue"
    assert "collection" in refused["reason"]
    assert err.count("\n") == 1
    assert "collection" in err


def test_missing_file_exits_2(tmp_path: Path) -> None:
    code, out, err = run(tmp_path / "nope.md", as_json=False)
    assert (code, out) == (2, "")
    assert err.startswith("error: cannot read")
    assert err.count("\n") == 1


def test_directory_exits_2(tmp_path: Path) -> None:
    code, _, err = run(tmp_path, as_json=False)
    assert code == 2
    assert "Traceback" not in err


def test_invalid_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_bytes(b"# Python Weekly #1\n\n\xff\xfe broken")
    code, out, err = run(path, as_json=True)
    assert (code, out) == (2, "")
    assert "not valid UTF-8" in err
