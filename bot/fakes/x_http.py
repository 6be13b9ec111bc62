"""The wire of the fake X: error bodies as X v2 sends them, request decoding, raw answers.

Route logic raises ``RequestError`` (or ``bad_request``) and ``bot.fakes.x``
turns it into the answer; bodies are X's own (PLATFORMS.md B.7).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.fakes.x_model import Fault, FaultKind, QuotaView, rate_limit_headers

Json = dict[str, Any]
# A route's logic: (request, endpoint) -> (status, body); run inside FakeX's pipeline.
Work = Callable[[web.Request, str], Awaitable[tuple[int, Json]]]

INVALID_REQUEST_TYPE = "https://api.twitter.com/2/problems/invalid-request"


def problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Json:
    """An RFC 7807 problem body as X v2 sends it."""
    return {"title": title, "detail": detail, "type": type_, "status": status}


def invalid_request(message: str, parameter: str, value: object) -> Json:
    """X v2's 400 body for a bad parameter; tweepy shows ``errors[].message``."""
    return {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": INVALID_REQUEST_TYPE,
    }


class RequestError(Exception):
    """Raised by route logic to answer with an X error body."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def bad_request(message: str, parameter: str, value: object) -> RequestError:
    return RequestError(400, invalid_request(message, parameter, value))


async def json_body(request: web.Request) -> Json:
    """The request's JSON object, or the 400 X gives for anything else."""
    if request.content_type != "application/json":
        raise RequestError(
            400,
            problem(
                400,
                "Invalid Request",
                "The request body must be JSON (Content-Type: application/json).",
                INVALID_REQUEST_TYPE,
            ),
        )
    try:
        body = await request.json()
    except json.JSONDecodeError as error:
        raise RequestError(
            400, problem(400, "Invalid Request", f"Malformed JSON: {error}", INVALID_REQUEST_TYPE)
        ) from error
    if not isinstance(body, dict):
        raise RequestError(
            400, problem(400, "Invalid Request", "The body must be an object", INVALID_REQUEST_TYPE)
        )
    return body


async def multipart(request: web.Request) -> Any:
    if request.content_type != "multipart/form-data":
        raise RequestError(
            400,
            problem(400, "Invalid Request", "Expected multipart/form-data", INVALID_REQUEST_TYPE),
        )
    return await request.post()


def too_many(view: QuotaView) -> web.Response:
    """X's 429, with the rate-limit headers of the quota that ran out."""
    return web.json_response(
        problem(429, "Too Many Requests", "Too Many Requests"),
        status=429,
        headers=rate_limit_headers(view),
    )


def drop_connection(request: web.Request) -> web.Response:
    """Close the connection without an answer; the client sees a disconnect."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


def fault_status(fault: Fault) -> int:
    return 429 if fault.kind is FaultKind.RATE_LIMIT else fault.status


def control_json(body: Json, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda v: json.dumps(v, default=str))
