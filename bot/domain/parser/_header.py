"""The issue header (front matter or H1): title, number, date and language."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath

from bot.domain.issue import LANGS, Lang
from bot.domain.parser._inline import spans

_NUMBER_HASH = re.compile(r"#\s*(\d{1,4})(?!\d)")
_NUMBER_WORD = re.compile(
    r"(?:weekly|周刊|週刊)\s*(?:issue\s*|no\.\s*)?#?\s*(\d{1,4})(?!\d)"
    r"|第\s*(\d{1,4})\s*期|\bissue\s*(?:no\.\s*)?#?\s*(\d{1,4})(?![\d~\-–])",
    re.IGNORECASE,
)
# CommonMark backslash escapes, as in `# Python Trending Weekly #66: Python\'s …`.
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_ATX_CLOSING = re.compile(r"[ \t]+#+[ \t]*$")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_FILE_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-weekly(?:\.|$)")
_KANA = re.compile(r"[\u3040-\u30ff]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
# The blog copy adds layout, description and tag lists; a real header is far shorter.
_MAX_FRONT_MATTER_LINES = 200
_LANGS: dict[str, Lang] = {lang: lang for lang in LANGS}
# The words a summary puts before its full-text link (FORMAT.md §3.3 and the closing
# text): `去专栏阅读全文：[全文链接](…)`, `订阅后，可免费查看 第 N 期周刊的全文：<url>`,
# `After subscribing, you can view the full text of Issue N for free: <url>`. Not bare
# `全文`: `全文 2100 字` is the word count and `全文搜索` a full-text search.
_FULL_TEXT_CUE = re.compile(r"阅读全文|全文链接|周刊的全文|read the full text|full text of", re.I)
_BARE_URL = re.compile(r"https?://[^\s<>()\[\]\u3000-\u303f\uff00-\uffef]+")
_FENCE_LINE = re.compile(r"^[ \t]{0,3}(```|~~~)")


@dataclass(frozen=True, slots=True)
class Header:
    title: str | None  # None when the text has neither front matter nor an H1
    fields: dict[str, str]  # front-matter keys, empty for an H1
    body_start: int  # index of the first line after the header


def read_header(lines: list[str]) -> Header:
    """Read front matter or an H1 from the first non-blank lines."""
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines):
        return Header(None, {}, start)
    first = lines[start].strip()
    if first == "---":
        fields: dict[str, str] = {}
        for end in range(start + 1, min(len(lines), start + _MAX_FRONT_MATTER_LINES)):
            line = lines[end].strip()
            if line == "---":
                title = fields.get("title")
                return Header(title, fields, end + 1)
            key, sep, value = line.partition(":")
            if sep and key.strip():
                fields[key.strip()] = _unquote(value.strip())
        return Header(None, {}, start)  # no closing fence: not front matter
    if first.startswith("# "):
        return Header(_ESCAPED.sub(r"\1", _ATX_CLOSING.sub("", first[2:]).strip()), {}, start + 1)
    return Header(None, {}, start)


def full_text_url(lines: list[str]) -> str | None:
    """Return the link to the issue's full text that a summary file gives, or None.

    The first cue line (outside fences) decides: a link on it, else a bare URL after the
    cue, else a bare URL alone on the next non-blank line (#159 breaks the line there).
    A cue with no URL at all (en #144: "…for free: " and nothing) gives None.
    """
    in_fence = False
    for at, line in enumerate(lines):
        if _FENCE_LINE.match(line):
            in_fence = not in_fence
            continue
        cue = None if in_fence else _FULL_TEXT_CUE.search(line)
        if cue is None:
            continue
        for span in spans(line.strip()):
            if span.kind == "link" and _BARE_URL.fullmatch(span.url):
                return span.url
        bare = _BARE_URL.search(line, cue.end())
        if bare:
            return bare.group(0)
        following = next((n.strip() for n in lines[at + 1 : at + 3] if n.strip()), "")
        if _BARE_URL.fullmatch(following):
            return following
    return None


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].replace("\\'", "'").replace('\\"', '"')
    return value


def issue_number(title: str | None) -> int | None:
    """Take `#N` from the title, else `Weekly N` / `周刊N`."""
    if not title:
        return None
    match = _NUMBER_HASH.search(title) or _NUMBER_WORD.search(title)
    if not match:
        return None
    return int(next(g for g in match.groups() if g is not None))


def issue_date(header: Header, filename: str | None) -> dt.date | None:
    """Prefer the file name's date, then pubDate, then a date in the title."""
    candidates: list[str] = []
    if filename:
        match = _FILE_DATE.match(_path(filename).name)
        if match:
            candidates.append(match.group(1))
    candidates.append(header.fields.get("pubDate", ""))
    candidates.append(header.title or "")
    for candidate in candidates:
        match = _ISO_DATE.search(candidate)
        if match:
            try:
                return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            except ValueError:
                continue
    return None


def issue_lang(filename: str | None, lang: str | None, sample: str) -> Lang:
    """Use the parent folder (zh/en/ja), then the caller's hint, then the text itself."""
    if filename:
        parent = _path(filename).parent.name
        if parent in _LANGS:
            return _LANGS[parent]
    if lang in _LANGS:
        return _LANGS[lang]
    return detect_lang(sample)


def detect_lang(sample: str) -> Lang:
    if len(_KANA.findall(sample)) >= 10:
        return "ja"
    cjk = len(_CJK.findall(sample))
    latin = len(_LATIN.findall(sample))
    # A Chinese character carries about as much as a short English word.
    return "zh" if cjk * 3 >= latin and cjk > 0 else "en"


def _path(filename: str) -> PurePath:
    return PureWindowsPath(filename) if "\\" in filename else PurePosixPath(filename)
