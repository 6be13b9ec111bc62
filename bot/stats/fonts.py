"""The one CJK font lookup the charts and the word cloud draw with.

Chinese titles and names need a font with CJK glyphs (DejaVu, what matplotlib ships,
draws boxes). In order:

1. `stats.font_path` (`WEEKLYBOT_STATS__FONT_PATH`), when set: that file or nothing;
2. Noto Sans SC as the `pylopdf-fonts-zh-cn` package installs it (a dependency of the
   project, so `pip install` / `make` / the Dockerfile bring it; SIL OFL 1.1);
3. the Debian packages' files (`fonts-noto-cjk`, `fonts-wqy-microhei`,
   `fonts-wqy-zenhei`), for an install that removed the package.

A font found must cover a sample of Chinese (`covers`, its cmap read with fontTools),
so a Latin-only file given by mistake is refused here, not drawn as boxes. None found:
`FontNotFound`, whose message says what was tried and how to fix it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

# What the font must draw to count as a CJK font: common characters of the newsletter.
SAMPLE = "周刊异步爬虫项目文章"

SYSTEM_FONTS: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # fonts-noto-cjk
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),  # fonts-wqy-zenhei
)
_PACKAGE = "pylopdf_fonts_zh_cn"  # pip: pylopdf-fonts-zh-cn (Noto Sans SC)


class FontNotFound(Exception):
    """No usable CJK font: the message names what was tried and the fix."""


@lru_cache(maxsize=8)
def _codepoints(path: Path) -> frozenset[int]:
    """Every character the font's best cmap maps (the first face of a collection)."""
    from fontTools.ttLib import TTFont, TTLibError  # loaded on the first picture only

    try:
        font = TTFont(str(path), lazy=True, fontNumber=0)
        try:
            cmap = font.getBestCmap() or {}
        finally:
            font.close()
    except (OSError, TTLibError, AssertionError, KeyError) as exc:
        raise FontNotFound(f"{path} is not a font file this bot can read ({exc})") from None
    return frozenset(cmap)


def missing_glyphs(path: Path, text: Iterable[str]) -> list[str]:
    """The characters of `text` (whitespace aside) that the font at `path` cannot draw."""
    points = _codepoints(path)
    return sorted({ch for ch in text if not ch.isspace() and ord(ch) not in points})


def covers(path: Path, text: Iterable[str]) -> bool:
    return not missing_glyphs(path, text)


def _packaged() -> Path | None:
    try:
        module = importlib.import_module(_PACKAGE)
    except ImportError:
        return None
    path = Path(module.sans_path())
    return path if path.is_file() else None


def cjk_font(override: Path | None = None, *, system: Iterable[Path] = SYSTEM_FONTS) -> Path:
    """The CJK font to draw with: the override, else the packaged, else a system one."""
    if override is not None:
        if not override.is_file():
            raise FontNotFound(
                f"WEEKLYBOT_STATS__FONT_PATH is {override}, which is not a file:"
                " give the path of a CJK font (.ttf, .otf or .ttc), or unset it"
            )
        lacking = missing_glyphs(override, SAMPLE)
        if lacking:
            raise FontNotFound(
                f"the font {override} (WEEKLYBOT_STATS__FONT_PATH) has no Chinese glyphs"
                f" ({''.join(lacking)}): give a CJK font such as Noto Sans SC"
            )
        return override
    tried: list[str] = []
    packaged = _packaged()
    candidates = ([packaged] if packaged else []) + list(system)
    if packaged is None:
        tried.append(f"the package {_PACKAGE.replace('_', '-')} (not installed)")
    for path in candidates:
        if not path.is_file():
            tried.append(str(path))
            continue
        try:
            if covers(path, SAMPLE):
                return path
        except FontNotFound:
            pass
        tried.append(f"{path} (no Chinese glyphs)")
    raise FontNotFound(
        "no CJK font found for the charts (tried: " + "; ".join(tried) + "). Install the"
        " project's dependencies again (`pip install -e .` brings pylopdf-fonts-zh-cn),"
        " or `apt-get install fonts-noto-cjk`, or set WEEKLYBOT_STATS__FONT_PATH"
    )
