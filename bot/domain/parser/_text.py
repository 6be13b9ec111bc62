"""Text normalisation and small string helpers shared by the parser modules."""

from __future__ import annotations

import re
import unicodedata

# Mojibake signatures: UTF-8 emoji read as Mac Roman start with U+F8FF (Apple logo) + "ü";
# read as cp1252 they start with "ðŸ"; cp1252 punctuation gives "â€".
_MOJIBAKE_HINT = re.compile("\uf8ff|ðŸ|â€|Ã[\u0080-\u00bf]")
_MAC_ROMAN_RUN = re.compile("\uf8ff[^\x00-\x7f]+")

EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF))


def normalise(text: str) -> str:
    """Return the text with LF line ends, no BOM, and mojibake repaired when present."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _MOJIBAKE_HINT.search(text):
        text = repair_mojibake(text)
    return text


def repair_mojibake(text: str) -> str:
    """Undo wrong-codec decoding; ftfy first, then the Mac Roman runs ftfy leaves alone."""
    import ftfy  # imported here: ftfy is slow to import and rarely needed

    fixed: str = ftfy.fix_text(text, normalization=None)
    if "\uf8ff" in fixed:
        fixed = _MAC_ROMAN_RUN.sub(_undo_mac_roman, fixed)
    return fixed


def _undo_mac_roman(match: re.Match[str]) -> str:
    run = match.group(0)
    try:
        return run.encode("mac_roman").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return run


def is_emoji(char: str) -> bool:
    """Whether a character is a pictograph of the kind used in section headings."""
    code = ord(char)
    return any(low <= code <= high for low, high in EMOJI_RANGES)


def squash_spaces(text: str) -> str:
    return " ".join(text.split())


_NON_WORD = re.compile(r"[\W_]+")


def title_key(title: str) -> str:
    """Fold a title to letters and digits so that summary and full titles compare equal."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", title).casefold())
