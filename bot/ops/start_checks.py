"""What `weeklybot run` checks before it polls: each problem one line with its fix.

Fatal problems (the channel is missing or the bot may not post there, X refuses
the credentials, GitHub refuses the token or cannot show the repository or has its
issues off) stop the bot with exit 2; the others are logged as warnings and
told to the editors who can be reached. The database folder is checked when the
database opens (`data.db.check_usable`), before any of these.

A bot cannot ask whether a user has started it; it can only try. The check sends
the `typing` chat action to each review chat: it is refused exactly as a message
would be (403 "bot can't initiate conversation with a user", "bot was blocked by
the user", 400 "chat not found") and leaves nothing in the chat.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
from telegram import Bot, ChatMember, ChatMemberAdministrator, ChatMemberOwner
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden

from bot.config import Settings
from bot.editors.kit import EditorChats
from bot.texts import text
from publishers.github import GitHubAPI

if TYPE_CHECKING:
    from publishers.x_client import XClient

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong at start, said so an operator can fix it."""

    text: str
    fatal: bool


class StartCheckFailed(Exception):
    """Fatal start problems; the CLI prints the message and exits 2."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        count = len(problems)
        super().__init__(f"{count} start check{'s' * (count != 1)} failed (each logged above)")


async def check_channel(bot: Bot, settings: Settings) -> list[Problem]:
    """The channel exists, the bot is in it, and it may post there."""
    channel = settings.telegram.channel_id
    try:
        chat = await bot.get_chat(channel)
        member = await bot.get_chat_member(channel, bot.id)
    except BadRequest as exc:
        return [
            Problem(
                f"channel {channel}: Telegram says {exc.message!r}; check "
                "WEEKLYBOT_TELEGRAM__CHANNEL_ID (@username or the -100… id) and add the bot to it",
                fatal=True,
            )
        ]
    except Forbidden as exc:
        return [
            Problem(
                f"channel {channel}: the bot is not in it ({exc.message}); add the bot as an "
                "administrator allowed to post messages",
                fatal=True,
            )
        ]
    if not _may_post(member, chat.type):
        return [
            Problem(
                f"channel {channel}: the bot may not post there (status {member.status}); make it "
                "an administrator with the right to post messages",
                fatal=True,
            )
        ]
    return []


def _may_post(member: ChatMember, chat_type: str) -> bool:
    if isinstance(member, ChatMemberOwner):
        return True
    if chat_type == ChatType.CHANNEL:
        return isinstance(member, ChatMemberAdministrator) and bool(member.can_post_messages)
    return member.status in (ChatMember.ADMINISTRATOR, ChatMember.MEMBER)


async def check_review_chats(bot: Bot, settings: Settings) -> tuple[list[Problem], list[int]]:
    """Problems with the chats the cards go to, and the chats that work."""
    tg = settings.telegram
    if not tg.review_chats():
        return [
            Problem(
                "no editors: nobody gets preview cards; set WEEKLYBOT_TELEGRAM__EDITOR_IDS "
                "(or WEEKLYBOT_TELEGRAM__EDITOR_CHAT_ID)",
                fatal=False,
            )
        ], []
    problems: list[Problem] = []
    working: list[int] = []
    for chat_id in tg.review_chats():
        is_group = tg.editor_chat_id is not None
        try:
            await bot.send_chat_action(chat_id, ChatAction.TYPING)
        except (Forbidden, BadRequest) as exc:
            if is_group:
                fix = "add the bot to that group (WEEKLYBOT_TELEGRAM__EDITOR_CHAT_ID)"
            elif "blocked" in exc.message:
                fix = "they blocked the bot: they should unblock it and press Start"
            else:
                fix = "they should open a private chat with the bot and press Start"
            who = "the editor chat" if is_group else "editor"
            problems.append(
                Problem(f"{who} {chat_id} gets no cards ({exc.message}); {fix}", fatal=False)
            )
        else:
            working.append(chat_id)
    return problems, working


async def check_x(x_client: XClient | None) -> list[Problem]:
    """The X credentials work: GET /2/users/me with the user's OAuth 1.0a keys."""
    if x_client is None:
        return []
    import aiohttp  # X's libraries: loaded only when X is configured
    from tweepy.errors import Forbidden as XForbidden
    from tweepy.errors import TweepyException, Unauthorized

    try:
        await x_client.user_id()
    except (Unauthorized, XForbidden) as exc:
        return [
            Problem(
                f"X refused the credentials ({' '.join(str(exc).split())}); check the four "
                "WEEKLYBOT_X__… keys (read and write app, the posting account's access token)",
                fatal=True,
            )
        ]
    except (TweepyException, aiohttp.ClientError, TimeoutError) as exc:
        return [
            Problem(
                f"cannot reach X to check the credentials ({type(exc).__name__}); "
                "X posts wait until it answers",
                fatal=False,
            )
        ]
    return []


async def check_github(settings: Settings, http: httpx.AsyncClient | None) -> list[Problem]:
    """The token sees the repository, issues are on (GET /repos/{owner}/{repo}); a token
    whose owner may not push gets a warning: GitHub drops the label then."""
    gh = settings.github
    if gh.repo is None or gh.token is None or http is None:
        return []
    api = GitHubAPI(http, base_url=gh.api_base_url, repo=gh.repo, token=gh.token.get_secret_value())
    fix = "WEEKLYBOT_GITHUB__TOKEN (a fine-grained token with Issues: Read and write)"
    try:
        answer = await api.repository()
    except httpx.HTTPError as exc:
        return [Problem(f"cannot reach GitHub ({type(exc).__name__}); issues wait", fatal=False)]
    if answer.status == 401:
        return [Problem(f"GitHub refused the token ({answer.detail()}); set {fix}", fatal=True)]
    if answer.status == 404:
        return [
            Problem(
                f"GitHub has no repository {gh.repo} the token can see; check"
                f" WEEKLYBOT_GITHUB__REPO and {fix}",
                fatal=True,
            )
        ]
    if answer.status != 200 or not isinstance(answer.body, dict):
        return [Problem(f"GitHub answered {answer.status} ({answer.detail()})", fatal=False)]
    if answer.body.get("has_issues") is False:
        return [Problem(f"issues are disabled in {gh.repo}: turn them on", fatal=True)]
    permissions = answer.body.get("permissions")
    if gh.label and isinstance(permissions, dict) and permissions.get("push") is False:
        return [
            Problem(
                f"the token's owner may not push to {gh.repo}: GitHub files the issues"
                f" without the label {gh.label!r}",
                fatal=False,
            )
        ]
    return []


async def run_start_checks(
    bot: Bot,
    settings: Settings,
    x_client: XClient | None,
    *,
    http: httpx.AsyncClient | None = None,
) -> None:
    """Log every problem on its own line; raise on fatal ones, tell editors the rest."""
    problems = await check_channel(bot, settings)
    review, working = await check_review_chats(bot, settings)
    problems += review + await check_x(x_client) + await check_github(settings, http)
    for problem in problems:
        log.log(
            logging.CRITICAL if problem.fatal else logging.WARNING, "start check: %s", problem.text
        )
    fatal = [p for p in problems if p.fatal]
    if fatal:
        raise StartCheckFailed(fatal)
    if problems:
        lines = "\n".join(text("start_checks.problem", problem=p.text) for p in problems)
        if working:  # telling editors is best effort
            await EditorChats(bot, working).send(
                text("start_checks.problems", problems=lines), html=False, best_effort=True
            )
