"""A strict local fake of the Telegram Bot API, served on loopback over real HTTP.

Tests and the demo point the real PTB stack at it (``Bot(token, base_url=tg.base_url)``
or ``WEEKLYBOT_TELEGRAM__API_BASE_URL``), so requests go through httpx exactly as
they would to api.telegram.org. Telegram's rules live in ``telegram_api`` (methods,
validation), ``telegram_updates`` (getUpdates, webhooks), ``telegram_flood``
(limits, faults) and ``telegram_model`` (records); this module serves them and
offers the control API, both as Python methods and as JSON under ``/_control/``.

    async with FakeTelegram() as tg:
        tg.add_user(42, "Ann")
        async with telegram.Bot(tg.token, base_url=tg.base_url) as bot:
            await bot.send_message(42, "<b>hi</b>", parse_mode="HTML")
        assert tg.sent(42)[0].text == "hi"
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from types import TracebackType

import aiohttp
from aiohttp import web

from bot.fakes.telegram_api import SEND_METHODS, FakeBotAPI
from bot.fakes.telegram_flood import Fault, FaultPlan
from bot.fakes.telegram_http import (
    GATEWAY_PAGE,
    control_route,
    control_routes,
    decode_request,
    drop_connection,
    fault_error,
    json_answer,
)
from bot.fakes.telegram_inline import InlineAnswer
from bot.fakes.telegram_model import (
    BotAPIError,
    CallbackAnswer,
    CallRecord,
    ChatMessage,
    ControlError,
    FakeChat,
    FakeUser,
    PendingUpdate,
    Violation,
)

__all__ = [
    "SEND_METHODS",
    "CallRecord",
    "CallbackAnswer",
    "ChatMessage",
    "ControlError",
    "FakeTelegram",
    "Fault",
    "Violation",
    "serve_fake_telegram",
]

FAKE_TOKEN = "123456:TEST-token-for-the-fake"  # noqa: S105 - not a secret: the fake's own
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class FakeTelegram:
    """The fake Bot API server and its control API.

    Args:
        token: the bot token PTB will use; the bot id is its numeric prefix.
        limits_scale: multiplies every flood-limit count (1 = Telegram's guidance).
        flood_limits: False turns the limits off (the demo's bulk runs).
        seed: seeds the random fault rates.
        webhook_retry_delay: seconds between webhook deliveries after a failure.
    """

    def __init__(
        self,
        token: str = FAKE_TOKEN,
        *,
        bot_username: str = "weeklybot_test_bot",
        limits_scale: float = 1.0,
        flood_limits: bool = True,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.5,
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the fake Telegram binds loopback only, not {host!r}")
        bot_id, _, _ = token.partition(":")
        if not bot_id.isdigit():
            raise ValueError("a bot token starts with the bot's numeric id and a colon")
        self.token = token
        self.host = host
        self._requested_port = port
        self.api = FakeBotAPI(
            bot_id=int(bot_id),
            bot_username=bot_username,
            limits_scale=limits_scale,
            flood_limits=flood_limits,
        )
        self.faults = FaultPlan(seed)
        self.calls: list[CallRecord] = []
        self._webhook_retry_delay = webhook_retry_delay
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._session: aiohttp.ClientSession | None = None
        self._deliverer: asyncio.Task[None] | None = None

    # --- lifecycle ---

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_bot)
        for path, route in control_routes(self).items():
            app.router.add_route("*", f"/_control/{path}", control_route(route))
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only here
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self._session = aiohttp.ClientSession()
        self._deliverer = asyncio.create_task(self._deliver_webhooks())

    async def close(self) -> None:
        self.api.updates.close()
        if self._deliverer is not None:
            self._deliverer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._deliverer
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: it appends the token and the method."""
        return f"http://{self._url_host()}:{self._port}/bot"

    @property
    def control_url(self) -> str:
        return f"http://{self._url_host()}:{self._port}/_control"

    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    # --- registry ---

    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        username: str | None = None,
        *,
        language_code: str | None = None,
    ) -> FakeUser:
        """Register a user who has started the bot (their private chat id = user id);
        `language_code` is their client's language, sent in every update's `from`."""
        return self.api.add_user(user_id, first_name, username, language_code)

    def add_channel(
        self,
        chat_id: int,
        username: str | None = None,
        title: str = "Channel",
        *,
        bot_is_admin: bool = True,
    ) -> FakeChat:
        return self.api.add_chat(
            FakeChat(chat_id, "channel", title=title, username=username, bot_is_admin=bot_is_admin)
        )

    def add_group(
        self,
        chat_id: int,
        title: str = "Group",
        *,
        supergroup: bool = True,
        username: str | None = None,
        bot_is_member: bool = True,
        bot_is_admin: bool = False,
    ) -> FakeChat:
        chat = FakeChat(
            chat_id, "supergroup" if supergroup else "group", title=title, username=username
        )
        chat.bot_is_member, chat.bot_is_admin = bot_is_member, bot_is_admin
        return self.api.add_chat(chat)

    def set_bot_admin(self, chat_id: int | str, is_admin: bool = True) -> None:
        self.api.resolve_control_chat(chat_id).bot_is_admin = is_admin

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: sends to them answer 403."""
        if user_id not in self.api.users:
            raise ControlError(f"unknown user {user_id}")
        self.api.users[user_id].blocked = blocked

    # --- what users do ---

    def user_sends(self, user_id: int, text: str, chat_id: int | None = None) -> ChatMessage:
        """A user sends text (to the bot, or in a group); commands get bot_command entities."""
        return self.api.user_sends(user_id, text, chat_id)

    def user_forwards(
        self, user_id: int, text: str, origin: str, links: tuple[tuple[str, str], ...] = ()
    ) -> ChatMessage:
        """A user forwards a message (from `origin`, its text links as (word, URL)) to the bot."""
        return self.api.user_forwards(user_id, text, origin, links)

    def press(self, user_id: int, chat_id: int | str, message_id: int, data: str) -> str:
        """A user presses the inline button carrying ``data``; returns the query id.

        Raises:
            ControlError: no button on that message carries ``data``.
        """
        chat = self.api.resolve_control_chat(chat_id)
        return self.api.user_presses(user_id, chat.id, message_id, data)

    def press_forged(self, user_id: int, chat_id: int | str, message_id: int, data: str) -> str:
        """A modified client sends ``data`` on that message, whether or not a button has it."""
        chat = self.api.resolve_control_chat(chat_id)
        return self.api.user_presses_forged(user_id, chat.id, message_id, data)

    def inline_query(self, user_id: int, query: str, offset: str = "") -> str:
        """A user types `@bot query` (inline mode); returns the query id. The bot's
        answers are `inline_answers`."""
        return self.api.user_inline_query(user_id, query, offset)

    @property
    def inline_answers(self) -> list[InlineAnswer]:
        return list(self.api.inline.answers)

    def channel_post(self, chat_id: int | str, text: str) -> ChatMessage:
        """Another admin posts in a channel; the bot receives a channel_post."""
        return self.api.channel_post(self.api.resolve_control_chat(chat_id).id, text)

    # --- reading ---

    def messages(self, chat_id: int | str | None = None) -> list[ChatMessage]:
        """Every message in a chat (or all chats) as it is now, deleted ones flagged."""
        cid = None if chat_id is None else self.api.resolve_control_chat(chat_id).id
        return self.api.messages(cid)

    def messages_since(self, start: int) -> list[ChatMessage]:
        """Every message from the `start`-th on, all chats, in send order (`len(messages())`
        is where the next look starts): a poller reads only what is new."""
        return self.api.messages_since(start)

    def sent(self, chat_id: int | str | None = None) -> list[ChatMessage]:
        """The bot's messages that are still visible."""
        return [m for m in self.messages(chat_id) if m.from_bot and not m.deleted]

    def message(self, chat_id: int | str, message_id: int) -> ChatMessage:
        return self.api.message(self.api.resolve_control_chat(chat_id).id, message_id)

    def history(self, chat_id: int | str, message_id: int) -> list[ChatMessage]:
        return self.api.history(self.api.resolve_control_chat(chat_id).id, message_id)

    @property
    def violations(self) -> list[Violation]:
        return list(self.api.violations)

    @property
    def answers(self) -> list[CallbackAnswer]:
        return list(self.api.answers)

    @property
    def pending_updates(self) -> tuple[PendingUpdate, ...]:
        return self.api.updates.pending

    def calls_of(self, method: str) -> list[CallRecord]:
        return [call for call in self.calls if call.method == method]

    # --- faults ---

    def inject(self, fault: Fault, *, method: str | None = None, times: int = 1) -> None:
        """Fail the next ``times`` calls of ``method`` (of any method when None)."""
        self.faults.script(fault, method=method, times=times)

    def inject_rate(self, fault: Fault, rate: float, *, method: str | None = None) -> None:
        """Fail calls of ``method`` (any when None) at random with probability ``rate``."""
        self.faults.rate(fault, rate, method=method)

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- the Bot API over HTTP ---

    async def _handle_bot(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return json_answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = self._canonical_method(request.match_info["method"])
        try:
            params, files = await decode_request(request)
        except ValueError as error:
            return json_answer(400, BotAPIError(400, f"Bad Request: {error}").body())
        chat_id = self.api.chat_id_of(params)
        fault = self.faults.next_fault(method) if method in self.api.methods else None
        if fault is not None and fault.kind == "drop_before":
            self._log(method, chat_id, 0, "connection dropped before processing", fault)
            return drop_connection(request)
        if fault is not None and fault.kind == "gateway_page":
            self._log(method, chat_id, fault.status, fault.description, fault)
            return web.Response(status=fault.status, text=GATEWAY_PAGE, content_type="text/html")
        if fault is not None and fault.kind in ("retry_after", "server_error"):
            injected = fault_error(fault)
            if fault.kind == "retry_after":
                self.api.announce_retry_after(params, int(fault.seconds))
            self._log(method, chat_id, injected.status, injected.description, fault)
            return json_answer(injected.status, injected.body())
        try:
            result = await self.api.call(method, params, files)
        except BotAPIError as error:
            status, body, description = error.status, error.body(), error.description
        else:
            status, body, description = 200, {"ok": True, "result": result}, ""
        if fault is not None and fault.kind == "slow":
            await asyncio.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop_after":
            self._log(method, chat_id, 0, "connection dropped after processing", fault)
            return drop_connection(request)
        self._log(method, chat_id, status, description, fault)
        return json_answer(status, body)

    def _canonical_method(self, name: str) -> str:
        # Telegram matches method names case-insensitively.
        for known in self.api.methods:
            if known.lower() == name.lower():
                return known
        return name

    def _log(
        self,
        method: str,
        chat_id: int | str | None,
        status: int,
        description: str | None,
        fault: Fault | None,
    ) -> None:
        self.calls.append(
            CallRecord(
                method,
                chat_id,
                time.time(),
                status,
                description or None,
                fault.kind if fault else None,
            )
        )

    async def _deliver_webhooks(self) -> None:
        """POST pending updates to the webhook, one at a time, until acknowledged."""
        assert self._session is not None
        queue = self.api.updates
        while not queue.closed:
            hook = queue.webhook
            if hook is None or not queue.pending:
                await queue.wait_changed(1.0)
                continue
            update = queue.pending[0]
            headers = {}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            try:
                async with self._session.post(
                    hook.url,
                    json=update.to_api(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=10),
                ) as response:
                    failure = (
                        None
                        if 200 <= response.status < 300
                        else f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
            except (aiohttp.ClientError, TimeoutError) as error:
                failure = f"Connection failed: {error.__class__.__name__}"
            if failure is None:
                queue.delivered(update.update_id)
                hook.delivered.append(update.update_id)
            else:
                queue.delivery_failed(failure)
                await asyncio.sleep(self._webhook_retry_delay)


async def serve_fake_telegram(
    host: str,
    port: int,
    token: str,
    *,
    limits_scale: float = 1.0,
    seed: int = 0,
    channel: str = "weeklybot_demo",
    channel_id: int = -1001000000001,
    users: tuple[tuple[int, str], ...] = ((1001, "Editor"), (1002, "Reader")),
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the fake until cancelled, with a demo channel and users registered."""
    fake = FakeTelegram(token, host=host, port=port, limits_scale=limits_scale, seed=seed)
    for user_id, name in users:
        fake.add_user(user_id, name)
    fake.add_channel(channel_id, channel, "Python Trending Weekly (fake)")
    async with fake:
        announce(f"fake Telegram Bot API: {fake.base_url}  (bot id {fake.api.bot_user['id']})")
        announce(f"control API: {fake.control_url}  (channel @{channel} = {channel_id})")
        announce("point the bot at it with:")
        announce(f"WEEKLYBOT_TELEGRAM__TOKEN={token}")
        announce(f"WEEKLYBOT_TELEGRAM__API_BASE_URL={fake.base_url}")
        announce(f"WEEKLYBOT_TELEGRAM__CHANNEL_ID={channel_id}")
        announce(f"WEEKLYBOT_TELEGRAM__EDITOR_IDS={users[0][0]}")
        await asyncio.Event().wait()
