"""The "now free to read" post: an old issue's full text was released (50 issues later).

Beside the other formatters so that a post's wording lives in `publishers/` alone;
`bot.weekly.planning.plan_release` decides when and where it goes. Pure: an issue and
its link in, a post within the platform's limits out.
"""

from __future__ import annotations

from bot.domain.issue import Issue, Lang
from publishers.format_common import BRANDS, clean_line, fit, issue_label
from publishers.format_telegram import DIGEST_TITLE_MAX, escape, link, within
from publishers.format_x import fits_x
from publishers.limits import TELEGRAM_TEXT_MAX
from publishers.posts import TelegramPost, TelegramText, XPost

FREE_NOW: dict[Lang, str] = {
    "zh": "全文现已免费阅读",
    "en": "is now free to read",
    "ja": "の全文が無料で読めるようになりました",
}


def format_release_telegram(issue: Issue, *, url: str) -> TelegramPost:
    """One message: the issue is free to read now, with its linked title."""
    label = issue_label(issue, issue.lang)
    title = fit(clean_line(issue.title) or label, lambda t: len(t) <= DIGEST_TITLE_MAX)

    def render(title: str) -> str:
        return f"🔓 <b>{escape(label)}</b> {escape(FREE_NOW[issue.lang])}\n\n{link(url, title)}"

    title = fit(title, lambda t: within(render(t), TELEGRAM_TEXT_MAX))
    # The link preview is wanted here: it shows the issue the notice is about.
    return TelegramPost(parts=(TelegramText(html=render(title), disable_preview=False),))


def format_release_x(issue: Issue, *, url: str) -> XPost:
    """One post within 280 weighted characters; the link is last and never cut."""
    label = issue_label(issue, issue.lang)

    def render(title: str) -> str:
        head = f"🔓 {label} {FREE_NOW[issue.lang]}"
        return "\n".join(part for part in (head, title, url) if part)

    title = clean_line(issue.title)
    if title.startswith(BRANDS[issue.lang]):  # "Python 潮流周刊#60：…" repeats the label
        title = title.removeprefix(BRANDS[issue.lang]).lstrip(" #0123456789：:").strip()
    title = fit(title, lambda t: fits_x(render(t)))
    return XPost(text=render(title))
