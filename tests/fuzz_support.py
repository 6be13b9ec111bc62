"""What the `test_fuzz_*` files share: one bounded hypothesis profile and hostile text.

The profile keeps the whole fuzzing addition to a few seconds of suite time
(`max_examples` small, no deadline: the machine is shared, timing is not the point).
A longer hunt runs the same tests with more examples::

    WEEKLYBOT_FUZZ_EXAMPLES=2000 .venv/bin/pytest -q tests/test_fuzz_*.py

Every bug the fuzzing found is pinned by an ``@example`` on the test that found it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

settings.register_profile(
    "weeklybot-fuzz",
    max_examples=int(os.environ.get("WEEKLYBOT_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FUZZ = settings(settings.get_profile("weeklybot-fuzz"))

# Pieces that break naive HTML, Markdown, URL and text handling.
HOSTILE_PIECES = [
    "<",
    ">",
    "&",
    '"',
    "'",
    "&amp;",
    "&lt;",
    "&#xD800;",
    "&#0;",
    "&nbsp;",
    "<b>",
    "</b>",
    "</>",
    "<br>",
    "<a href='x'>",
    '<tg-time unix="1" format="x">',
    "<tg-emoji emoji-id=0>",
    '<span class="tg-spoiler">',
    '<pre><code class="language-py">',
    "[",
    "]",
    "(",
    ")",
    "](",
    "**",
    "`",
    "```",
    "\\",
    "\x00",
    "\r",
    "\r\n",
    "\n",
    "\t",
    "\x0b",
    "\ufeff",
    "\u200b",
    "\u200e\u200f",
    "\u202e",
    "\u2028",
    "\u00a0",
    "\u3000",
    "\u0333",
    "e\u0301",
    "👨‍👩‍👧",
    "🇨🇳",
    "😀",
    "，",
    "。",
    "：",
    "；",
    "、",
    "「",
    "」",
    "【",
    "】",
    "（",
    "）",
    "！",
    "？",
    "《",
    "》",
    "https://",
    "http://e.com/a_(b)",
    "javascript:alert(1)",
    "%00",
    "%E4%BD",
    "@",
    "#",
    "：//",
]

_chars = st.characters(exclude_categories=["Cs"])  # str from UTF-8 never holds a surrogate

hostile_text = st.one_of(
    st.text(_chars, max_size=60),
    st.lists(
        st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(_chars, max_size=6)), max_size=30
    ).map("".join),
    st.builds(
        lambda piece, times: piece * times, st.sampled_from(HOSTILE_PIECES), st.integers(1, 3000)
    ),
)
