"""HTTP plumbing of the fake Telegram: request decoding, answers, the control routes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.fakes.telegram_flood import Fault
from bot.fakes.telegram_model import JSON, BotAPIError, ControlError, UploadedFile

if TYPE_CHECKING:
    from bot.fakes.telegram import FakeTelegram

# Parameters that PTB sends as plain strings; every other form value is JSON-encoded
# (telegram/request/_requestparameter.py, json_value).
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "url",
        "secret_token",
        "callback_query_id",
        "photo",
        "document",
        "language_code",
        "ip_address",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
    }
)
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def control_routes(fake: FakeTelegram) -> dict[str, Callable[[JSON], Any]]:
    """Map each /_control/<path> to what it does with the JSON body (and query)."""
    return {
        "users": lambda b: fake.add_user(
            int(b["user_id"]),
            b.get("first_name", "User"),
            b.get("username"),
            language_code=b.get("language_code"),
        ),
        "channels": lambda b: fake.add_channel(
            int(b["chat_id"]),
            b.get("username"),
            b.get("title", "Channel"),
            bot_is_admin=bool(b.get("bot_is_admin", True)),
        ),
        "groups": lambda b: fake.add_group(
            int(b["chat_id"]),
            b.get("title", "Group"),
            supergroup=bool(b.get("supergroup", True)),
        ),
        "admin": lambda b: fake.set_bot_admin(b["chat_id"], bool(b.get("is_admin", True))),
        "block": lambda b: fake.block(int(b["user_id"]), bool(b.get("blocked", True))),
        "send": lambda b: fake.user_sends(int(b["user_id"]), str(b["text"]), b.get("chat_id")),
        "press": lambda b: {
            "callback_query_id": fake.press(
                int(b["user_id"]), b["chat_id"], int(b["message_id"]), str(b["data"])
            )
        },
        "channel_post": lambda b: fake.channel_post(b["chat_id"], str(b["text"])),
        "messages": lambda b: fake.messages(b.get("chat_id")),
        "calls": lambda b: fake.calls,
        "violations": lambda b: {"count": len(fake.violations), "violations": fake.violations},
        "answers": lambda b: fake.answers,
        "updates": lambda b: fake.pending_updates,
        "faults": lambda b: _control_faults(fake, b),
        "chats": lambda b: [chat for chat in fake.api.chats.values()],
    }


def _control_faults(fake: FakeTelegram, body: JSON) -> JSON:
    if body.get("clear"):
        fake.clear_faults()
        return {"cleared": True}
    kind = body["kind"]
    fault = {
        "retry_after": lambda: Fault.retry_after(int(body.get("seconds", 1))),
        "server_error": lambda: Fault.server_error(
            int(body.get("status", 500)), body.get("description", "Internal Server Error")
        ),
        "gateway_page": lambda: Fault.gateway_page(int(body.get("status", 502))),
        "slow": lambda: Fault.slow(float(body.get("seconds", 1))),
        "timeout": lambda: Fault.timeout(float(body.get("seconds", 30))),
        "drop_before": Fault.drop_before,
        "drop_after": Fault.drop_after,
    }[kind]()
    if "rate" in body:
        fake.inject_rate(fault, float(body["rate"]), method=body.get("method"))
    else:
        fake.inject(fault, method=body.get("method"), times=int(body.get("times", 1)))
    return {"fault": dataclasses.asdict(fault)}


def control_route(action: Callable[[JSON], Any]) -> Route:
    """Wrap a control action as an aiohttp route answering JSON; bad input is a 400."""

    async def route(request: web.Request) -> web.StreamResponse:
        try:
            body: JSON = dict(request.query)
            if request.can_read_body:
                body.update(await request.json())
            result = action(body)
        except (ControlError, KeyError, TypeError, ValueError) as error:
            return json_answer(
                400, {"ok": False, "description": f"{type(error).__name__}: {error}"}
            )
        return json_answer(200, {"ok": True, "result": to_plain(result)})

    return route


def to_plain(value: Any) -> Any:
    """Turn records into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [to_plain(v) for v in value]
    return value


# What nginx in front of the Bot API shows when the API behind it is down.
GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)


def json_answer(status: int, body: JSON) -> web.Response:
    return web.json_response(body, status=status)


def drop_connection(request: web.Request) -> web.Response:
    """Close the connection without an answer; aiohttp then writes nothing."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response()


def fault_error(fault: Fault) -> BotAPIError:
    if fault.kind == "retry_after":
        seconds = int(fault.seconds)
        return BotAPIError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)
    return BotAPIError(fault.status, fault.description)


async def decode_request(request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
    """Read parameters from the query, a JSON body, a form or a multipart body."""
    params: JSON = {k: form_value(k, v) for k, v in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if not request.can_read_body:
        return params, files
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.read() or b"{}")
        except json.JSONDecodeError:
            raise ValueError("can't parse JSON encoded request") from None
        if not isinstance(body, dict):
            raise ValueError("can't parse JSON encoded request")
        params.update(body)
        return params, files
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            upload = UploadedFile(value.filename, value.file.read())
            files[name] = upload
            params.setdefault(name, upload)
        else:
            params[name] = form_value(name, str(value))
    return params, files


def form_value(name: str, value: str) -> Any:
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
