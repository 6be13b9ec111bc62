"""Bot API methods of the fake Telegram, validated the way Telegram validates them.

No HTTP here: ``FakeBotAPI.call(method, params, files)`` returns the ``result``
of a successful answer or raises ``BotAPIError``; ``bot.fakes.telegram`` puts
it on the wire. Error texts are Telegram's own (PLATFORMS.md §A, §D.1).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.fakes.telegram_flood import FloodLimiter
from bot.fakes.telegram_inline import InlineQueries
from bot.fakes.telegram_model import (
    JSON,
    BotAPIError,
    CallbackAnswer,
    ChatMessage,
    ControlError,
    Document,
    FakeChat,
    FakeUser,
    Photo,
    UploadedFile,
    Violation,
    bad_request,
    command_entities,
    forbidden,
    inline_keyboard,
)
from bot.fakes.telegram_params import (
    administrator_member,
    caption_text,
    message_text,
    now,
    photo_sizes,
    required_int,
    too_many,
)
from bot.fakes.telegram_updates import UpdateQueue
from publishers.image_size import image_size
from publishers.limits import (
    TELEGRAM_ANSWER_CALLBACK_TEXT_MAX,
    TELEGRAM_COMMAND_DESCRIPTION_MAX,
    TELEGRAM_COMMAND_NAME,
    TELEGRAM_COMMAND_NAME_MAX,
    TELEGRAM_COMMANDS_MAX,
    TELEGRAM_MEDIA_GROUP_MAX,
    TELEGRAM_MEDIA_GROUP_MIN,
    telegram_photo_problem,
)
from publishers.telegram_html import (
    MessageEntity,
    ParsedHTML,
    utf16_length,
)

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

SEND_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendMediaGroup", "forwardMessage", "sendDocument"}
)
# sendDocument: "Bots can currently send files of any type of up to 50 MB in size"
# (core.telegram.org/bots/api#senddocument); a bigger upload is refused before it is read.
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
_MIME_TYPES = {
    "md": "text/markdown",
    "txt": "text/plain",
    "json": "application/json",
    "csv": "text/csv",
    "png": "image/png",
    "pdf": "application/pdf",
}


def _uploaded_photo_size(upload: UploadedFile) -> tuple[int, int]:
    """An uploaded photo's width and height, or the 400 Telegram gives: a file that is
    no picture, one past 10 MB, or sides past the documented rules (sendPhoto: width +
    height at most 10000, ratio at most 20)."""
    size = image_size(upload.content)
    if size is None:
        raise bad_request("IMAGE_PROCESS_FAILED")
    problem = telegram_photo_problem(len(upload.content), size.width, size.height)
    if problem is not None:
        raise bad_request(problem)
    return size.width, size.height


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


Handler = Callable[[JSON, dict[str, UploadedFile]], Awaitable[Any]]


class FakeBotAPI:
    """The state of one fake bot: chats, messages, updates, limits."""

    def __init__(
        self,
        *,
        bot_id: int,
        bot_username: str,
        bot_name: str = "Weekly Bot",
        limits_scale: float = 1.0,
        flood_limits: bool = True,
    ) -> None:
        self.bot_user: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,  # inline mode on (BotFather /setinline)
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.updates = UpdateQueue()
        self.flood = FloodLimiter(limits_scale) if flood_limits else None
        self.violations: list[Violation] = []
        self.answers: list[CallbackAnswer] = []
        self.inline = InlineQueries(self.updates)  # inline mode: queries and answers
        self.commands: dict[str, list[JSON]] = {}
        self._messages: dict[tuple[int, int], ChatMessage] = {}
        self._history: dict[tuple[int, int], list[ChatMessage]] = {}
        self._callbacks: dict[str, tuple[int, ChatMessage]] = {}
        self._file_ids: set[str] = set()
        self._ids = itertools.count(1)
        self.methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendMediaGroup": self._send_media_group,
            "sendDocument": self._send_document,
            "forwardMessage": self._forward_message,
            "editMessageText": self._edit_text,
            "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getChat": self._get_chat,
            "getChatMember": self._get_chat_member,
            "sendChatAction": self._send_chat_action,
            "close": self._true,
            "logOut": self._true,
        }

    # --- registry ---

    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        username: str | None = None,
        language_code: str | None = None,
    ) -> FakeUser:
        user = FakeUser(user_id, first_name, username, language_code=language_code)
        self.users[user_id] = user
        self.chats[user_id] = FakeChat(user_id, "private", username=username, first_name=first_name)
        return user

    def add_chat(self, chat: FakeChat) -> FakeChat:
        if chat.type == "channel" and not str(chat.id).startswith("-100"):
            raise ControlError("channel ids start with -100")
        self.chats[chat.id] = chat
        return chat

    def resolve_chat(self, value: object) -> FakeChat:
        """Find a chat by id or ``@username`` as Telegram does, else 400 chat not found."""
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name and chat.type != "private":
                    return chat
            raise bad_request("chat not found")
        try:
            chat_id = int(str(value))
        except ValueError:
            raise bad_request("chat not found") from None
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found")
        return found

    def chat_id_of(self, params: JSON) -> int | str | None:
        """Return the chat a call is about (resolved when possible), for the call log."""
        value = params.get("chat_id")
        if value is None:
            return None
        try:
            return self.resolve_chat(value).id
        except BotAPIError:
            return value if isinstance(value, int | str) else str(value)

    # --- reading ---

    def messages(self, chat_id: int | None = None) -> list[ChatMessage]:
        """Return every message (or one chat's), deleted ones included, in send order."""
        return [m for (cid, _), m in self._messages.items() if chat_id in (None, cid)]

    def messages_since(self, start: int) -> list[ChatMessage]:
        """The messages of every chat from the `start`-th sent on (a watcher's cursor)."""
        return list(itertools.islice(self._messages.values(), start, None))

    def message(self, chat_id: int, message_id: int) -> ChatMessage:
        try:
            return self._messages[(chat_id, message_id)]
        except KeyError:
            raise ControlError(f"no message {message_id} in chat {chat_id}") from None

    def history(self, chat_id: int, message_id: int) -> list[ChatMessage]:
        """Return every version of a message, the first as sent, the last as it is."""
        return list(self._history.get((chat_id, message_id), []))

    # --- control: what users do ---

    def user_sends(self, user_id: int, text: str, chat_id: int | None = None) -> ChatMessage:
        user = self._user(user_id)
        chat = self.resolve_control_chat(user_id if chat_id is None else chat_id)
        if chat.type == "channel":
            raise ControlError("users post in channels with channel_post()")
        message = self._store(
            ChatMessage(
                chat.id,
                self._next_message_id(chat),
                "user",
                now(),
                from_bot=False,
                text=text,
                entities=command_entities(text),
                user_id=user.id,
            )
        )
        self.updates.push("message", self.message_json(message))
        return message

    def user_forwards(
        self, user_id: int, text: str, origin: str, links: tuple[tuple[str, str], ...] = ()
    ) -> ChatMessage:
        """A user forwards a message of the channel named `origin` to the bot, in private.

        `links` are (word of `text`, URL) pairs: text links, as a channel post has them.
        """
        user = self._user(user_id)
        chat = self.resolve_control_chat(user_id)
        entities = tuple(
            MessageEntity(
                "text_link", utf16_length(text[: text.index(word)]), utf16_length(word), url=url
            )
            for word, url in links
        )
        message = self._store(
            ChatMessage(
                chat.id,
                self._next_message_id(chat),
                "user",
                now(),
                from_bot=False,
                text=text,
                entities=entities,
                user_id=user.id,
                forward_origin={"type": "hidden_user", "sender_user_name": origin, "date": now()},
            )
        )
        self.updates.push("message", self.message_json(message))
        return message

    def channel_post(self, chat_id: int, text: str) -> ChatMessage:
        """Another admin posts in a channel: the bot gets a channel_post update."""
        chat = self.resolve_control_chat(chat_id)
        if chat.type != "channel":
            raise ControlError(f"chat {chat_id} is not a channel")
        message = self._store(
            ChatMessage(chat.id, self._next_message_id(chat), "user", now(), False, text=text)
        )
        if chat.bot_is_admin:
            self.updates.push("channel_post", self.message_json(message))
        return message

    def user_presses(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """Press an inline button; only data on that message's keyboard can be sent."""
        user = self._user(user_id)
        message = self.message(chat_id, message_id)
        if message.deleted:
            raise ControlError(f"message {message_id} in chat {chat_id} was deleted")
        if data not in message.callback_data():
            raise ControlError(
                f"no button with callback_data {data!r} on message {message_id} in chat {chat_id}"
            )
        return self._push_press(user, chat_id, message, data)

    def user_presses_forged(self, user_id: int, chat_id: int, message_id: int, data: str) -> str:
        """A modified client sends callback data no button carries (Telegram lets it)."""
        return self._push_press(
            self._user(user_id), chat_id, self.message(chat_id, message_id), data
        )

    def _push_press(self, user: FakeUser, chat_id: int, message: ChatMessage, data: str) -> str:
        query_id = str(next(self._ids) * 7919 + 10**15)
        self._callbacks[query_id] = (user.id, message)
        self.updates.push(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "message": self.message_json(message),
                "chat_instance": str(abs(chat_id) * 31 + 7),
                "data": data,
            },
        )
        return query_id

    def user_inline_query(self, user_id: int, query: str, offset: str = "") -> str:
        """The user types `@bot query` in any chat; returns the inline query's id."""
        return self.inline.push(self._user(user_id), query, offset)

    async def _answer_inline_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        return self.inline.answer(params)

    def resolve_control_chat(self, chat_id: int | str) -> FakeChat:
        try:
            return self.resolve_chat(chat_id)
        except BotAPIError:
            raise ControlError(f"unknown chat {chat_id!r}") from None

    def _user(self, user_id: int) -> FakeUser:
        user = self.users.get(user_id)
        if user is None:
            raise ControlError(f"unknown user {user_id}; add_user() first")
        return user

    # --- dispatch ---

    async def call(self, method: str, params: JSON, files: dict[str, UploadedFile]) -> Any:
        handler = self.methods.get(method)
        if handler is None:
            raise BotAPIError(404, "Not Found")
        return await handler(params, files)

    def announce_retry_after(self, params: JSON, seconds: int) -> None:
        """Remember a 429 answered to a chat, so early sends count as violations."""
        if self.flood is None:
            return
        chat_id = self.chat_id_of(params)
        if isinstance(chat_id, int):
            self.flood.announce(chat_id, seconds)

    # --- methods ---

    async def _true(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return dict(self.bot_user)

    async def _get_updates(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        return await self.updates.get_updates(params)

    async def _send_chat_action(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """As Telegram: refused like a send (403 for a user who never started the bot)."""
        self._writable_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    async def _send_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._writable_chat(params)
        parsed = message_text(params)
        markup = inline_keyboard(params.get("reply_markup"))
        self._check_flood(chat, "sendMessage", 1)
        message = self._store(
            ChatMessage(
                chat.id,
                self._next_message_id(chat),
                "sendMessage",
                now(),
                True,
                text=parsed.text,
                entities=parsed.entities,
                reply_markup=markup,
                force_reply=_asks_force_reply(params.get("reply_markup")),
            )
        )
        return self.message_json(message)

    async def _send_photo(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._writable_chat(params)
        photo = self._photo(params.get("photo"), files)
        return self._send_captioned(chat, params, "sendPhoto", photo=photo)

    async def _send_document(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self._writable_chat(params)
        document = self._document(params.get("document"), files)
        return self._send_captioned(chat, params, "sendDocument", document=document)

    def _send_captioned(self, chat: FakeChat, params: JSON, method: str, **attachment: Any) -> JSON:
        """A file with a caption (sendPhoto, sendDocument): the caption, the flood check, the
        message; the caller has checked the chat and read its file first, as Telegram does."""
        caption = caption_text(params, "caption", "caption_entities")
        markup = inline_keyboard(params.get("reply_markup"))
        self._check_flood(chat, method, 1)
        message = self._store(
            ChatMessage(
                chat.id,
                self._next_message_id(chat),
                method,
                now(),
                True,
                caption=caption.text if caption.text else None,
                caption_entities=caption.entities,
                reply_markup=markup,
                **attachment,
            )
        )
        return self.message_json(message)

    async def _send_media_group(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        chat = self._writable_chat(params)
        media = params.get("media")
        if not isinstance(media, list):
            raise bad_request("can't parse media JSON object")
        if not TELEGRAM_MEDIA_GROUP_MIN <= len(media) <= TELEGRAM_MEDIA_GROUP_MAX:
            raise bad_request("media group must contain 2-10 items")  # Bot API sendMediaGroup
        items: list[tuple[Photo, ParsedHTML]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise bad_request("this fake accepts media groups of photos only")
            items.append(
                (
                    self._photo(item.get("media"), files),
                    caption_text(item, "caption", "caption_entities"),
                )
            )
        self._check_flood(chat, "sendMediaGroup", len(items))
        group_id = str(10**17 + next(self._ids))
        messages = [
            self._store(
                ChatMessage(
                    chat.id,
                    self._next_message_id(chat),
                    "sendMediaGroup",
                    now(),
                    True,
                    caption=caption.text or None,
                    caption_entities=caption.entities,
                    photo=photo,
                    media_group_id=group_id,
                )
            )
            for photo, caption in items
        ]
        return [self.message_json(m) for m in messages]

    async def _forward_message(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        """Copy a message into a chat with ``forward_origin`` (Bot API 7+).

        The bot must be able to read the source: a channel where it is not an
        admin, or a group it is not in, answers 403 as a send there would.
        """
        chat = self._writable_chat(params)
        source = self._readable_chat(params.get("from_chat_id"))
        original = self._messages.get((source.id, required_int(params, "message_id")))
        if original is None or original.deleted:
            raise bad_request("message to forward not found")
        self._check_flood(chat, "forwardMessage", 1)
        message = self._store(
            ChatMessage(
                chat.id,
                self._next_message_id(chat),
                "forwardMessage",
                now(),
                True,
                text=original.text,
                entities=original.entities,
                caption=original.caption,
                caption_entities=original.caption_entities,
                photo=original.photo,
                forward_origin=original.forward_origin or self._origin_of(original),
            )
        )
        return self.message_json(message)

    def _readable_chat(self, value: object) -> FakeChat:
        if value is None or value == "":
            raise bad_request("from_chat_id is empty")
        chat = self.resolve_chat(value)
        if chat.type == "channel" and not chat.bot_is_admin:
            raise forbidden("bot is not a member of the channel chat")
        if chat.type in ("group", "supergroup") and not chat.bot_is_member:
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    def _origin_of(self, message: ChatMessage) -> JSON:
        """The MessageOrigin of a message forwarded for the first time."""
        source = self.chats[message.chat_id]
        if source.type == "channel":
            return {
                "type": "channel",
                "date": message.date,
                "chat": source.to_api(),
                "message_id": message.message_id,
            }
        if message.from_bot:
            return {"type": "user", "date": message.date, "sender_user": dict(self.bot_user)}
        if message.user_id is not None:
            user = self.users[message.user_id].to_api()
            return {"type": "user", "date": message.date, "sender_user": user}
        return {"type": "chat", "date": message.date, "sender_chat": source.to_api()}

    async def _edit_text(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        old = self._editable(params)
        if old.text is None:
            raise bad_request("there is no text in the message to edit")
        parsed = message_text(params)
        markup = inline_keyboard(params.get("reply_markup"))
        new = dataclasses.replace(
            old, text=parsed.text, entities=parsed.entities, reply_markup=markup
        )
        return self._apply_edit(old, new, "editMessageText")

    async def _edit_caption(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        old = self._editable(params)
        if old.photo is None:
            raise bad_request("there is no caption in the message to edit")
        caption = caption_text(params, "caption", "caption_entities")
        markup = inline_keyboard(params.get("reply_markup"))
        new = dataclasses.replace(
            old,
            caption=caption.text or None,
            caption_entities=caption.entities,
            reply_markup=markup,
        )
        return self._apply_edit(old, new, "editMessageCaption")

    async def _edit_reply_markup(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        old = self._editable(params)
        new = dataclasses.replace(old, reply_markup=inline_keyboard(params.get("reply_markup")))
        return self._apply_edit(old, new, "editMessageReplyMarkup")

    async def _delete_message(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        chat = self._writable_chat(params)
        key = (chat.id, required_int(params, "message_id"))
        message = self._messages.get(key)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if chat.type != "private" and not message.from_bot and not chat.bot_is_admin:
            raise bad_request("message can't be deleted")
        self._replace(dataclasses.replace(message, deleted=True))
        return True

    async def _answer_callback_query(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callbacks:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and len(str(text)) > TELEGRAM_ANSWER_CALLBACK_TEXT_MAX:
            raise bad_request("MESSAGE_TOO_LONG")
        del self._callbacks[query_id]  # a query is answered once
        self.answers.append(
            CallbackAnswer(
                query_id,
                None if text is None else str(text),
                params.get("show_alert") in (True, "true"),
                params.get("url"),
            )
        )
        return True

    async def _set_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        """As tdlib and the Bot API server read it (td/telegram/BotCommand.cpp): each
        command trimmed, a leading "/" dropped, 1-32 characters of a-z, 0-9 and "_";
        a description of 1-256 characters after trimming; at most 100 commands."""
        key = self.command_key(params)
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > TELEGRAM_COMMANDS_MAX:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        menu: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command") or "").strip().removeprefix("/")
            description = str(command.get("description") or "").strip()
            if not name:
                raise bad_request("command must be non-empty")
            if len(name) > TELEGRAM_COMMAND_NAME_MAX:
                raise bad_request(f"command length must not exceed {TELEGRAM_COMMAND_NAME_MAX}")
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > TELEGRAM_COMMAND_DESCRIPTION_MAX:
                raise bad_request(
                    f"command description length must not exceed {TELEGRAM_COMMAND_DESCRIPTION_MAX}"
                )
            if not TELEGRAM_COMMAND_NAME.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            menu.append({"command": name, "description": description})
        if menu:
            self.commands[key] = menu
        else:  # an empty list deletes the scope's commands, as deleteMyCommands does
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> list[JSON]:
        return list(self.commands.get(self.command_key(params), []))

    async def _delete_my_commands(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self.commands.pop(self.command_key(params), None)
        return True

    def command_key(self, params: JSON) -> str:
        """The (scope, language) a command list is kept under, validated like Telegram
        (td/telegram/BotCommandScope.cpp): a chat scope names a known chat, never a
        channel; only `chat` may name a private chat; a language is two letters."""
        scope = params.get("scope")
        language = params.get("language_code") or ""
        if not isinstance(language, str) or not (
            language == ""
            or (
                len(language) == 2
                and language.isascii()
                and language.isalpha()
                and language.islower()
            )
        ):
            raise bad_request("invalid language code specified")
        if scope is None or scope == "":
            return f"default||{language}"
        if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope["type"]
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return f"{kind}||{language}"
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise bad_request("can't parse BotCommandScope: Unsupported type specified")
        chat = self.resolve_chat(scope.get("chat_id"))
        if chat.type == "channel":
            raise bad_request("can't change commands in channel chats")
        if chat.type == "private" and kind != "chat":
            raise bad_request("can't use specified scope in private chats")
        user = ""
        if kind == "chat_member":
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) or user_id not in self.users:
                raise bad_request("can't parse BotCommandScope: Invalid user_id specified")
            user = str(user_id)
        return f"{kind}|{chat.id}:{user}|{language}"

    async def _set_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self.updates.set_webhook(params)
        return True

    async def _delete_webhook(self, params: JSON, files: dict[str, UploadedFile]) -> bool:
        self.updates.delete_webhook(params)
        return True

    async def _get_webhook_info(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        return self.updates.webhook_info()

    async def _get_chat(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self.resolve_chat(params.get("chat_id"))
        if chat.type == "channel" and not chat.bot_is_admin:
            raise forbidden("bot is not a member of the channel chat")
        return chat.full_info()

    async def _get_chat_member(self, params: JSON, files: dict[str, UploadedFile]) -> JSON:
        chat = self.resolve_chat(params.get("chat_id"))
        user_id = required_int(params, "user_id")
        if user_id == self.bot_user["id"]:
            if chat.type != "private" and chat.bot_is_admin:
                return administrator_member(self.bot_user, chat)
            status = "member" if chat.bot_is_member or chat.type == "private" else "left"
            return {"status": status, "user": dict(self.bot_user)}
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        return {"status": "member", "user": user.to_api()}

    # --- helpers ---

    def _writable_chat(self, params: JSON) -> FakeChat:
        """Resolve the target chat and refuse it as Telegram does when the bot can't write."""
        chat = self.resolve_chat(params.get("chat_id"))
        if chat.type == "channel" and not chat.bot_is_admin:
            raise forbidden("bot is not a member of the channel chat")
        if chat.type in ("group", "supergroup") and not chat.bot_is_member:
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        if chat.type == "private":
            user = self.users[chat.id]
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def _check_flood(self, chat: FakeChat, method: str, items: int) -> None:
        if self.flood is None:
            return
        early = self.flood.announced_wait(chat.id)
        if early > 0:
            self.violations.append(Violation(chat.id, method, time.time(), early))
            raise too_many(max(1, int(early + 0.999)))
        retry_after = self.flood.check(chat.id, grouped=chat.type != "private", items=items)
        if retry_after is not None:
            raise too_many(retry_after)

    def _photo(self, value: object, files: dict[str, UploadedFile]) -> Photo:
        file_id = f"AgACAgIAAxkBAAIfake{next(self._ids):08d}"
        if isinstance(value, str) and value.startswith("attach://"):
            value = files.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            width, height = _uploaded_photo_size(value)
            self._file_ids.add(file_id)
            return Photo(
                "upload", value.filename, len(value.content), file_id, width, height, value.content
            )
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            self._file_ids.add(file_id)
            return Photo("url", value, 0, file_id)
        if isinstance(value, str) and value in self._file_ids:
            return Photo("file_id", value, 0, value)
        if value is None or value == "":
            raise bad_request("there is no photo in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _document(self, value: object, files: dict[str, UploadedFile]) -> Document:
        """A new file must come as a multipart upload (or a URL Telegram fetches, or the
        file_id of one sent before); an empty one or one over 50 MB is refused."""
        file_id = f"BQACAgIAAxkBAAIfake{next(self._ids):08d}"
        if isinstance(value, str) and value.startswith("attach://"):
            value = files.get(value.removeprefix("attach://"))
        if isinstance(value, UploadedFile):
            if not value.content:
                raise bad_request("file must be non-empty")
            if len(value.content) > DOCUMENT_MAX_BYTES:
                raise BotAPIError(413, "Request Entity Too Large")
            self._file_ids.add(file_id)
            extension = value.filename.rsplit(".", 1)[-1].lower() if "." in value.filename else ""
            mime = _MIME_TYPES.get(extension, "application/octet-stream")
            return Document("upload", value.filename, value.content, file_id, mime)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            self._file_ids.add(file_id)
            return Document("url", value.rsplit("/", 1)[-1], b"", file_id)
        if isinstance(value, str) and value in self._file_ids:
            return Document("file_id", "", b"", value)
        if value is None or value == "":
            raise bad_request("there is no document in the request")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _editable(self, params: JSON) -> ChatMessage:
        if params.get("inline_message_id"):
            raise bad_request("this fake does not implement inline messages")
        chat = self.resolve_chat(params.get("chat_id"))
        message = self._messages.get((chat.id, required_int(params, "message_id")))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(self, old: ChatMessage, new: ChatMessage, method: str) -> JSON:
        if new == old:
            raise bad_request(_NOT_MODIFIED)
        edited = dataclasses.replace(
            new,
            edits=old.edits + 1,
            edit_date=now(),
            edit_methods=(*old.edit_methods, method),
        )
        self._replace(edited)
        return self.message_json(edited)

    def _next_message_id(self, chat: FakeChat) -> int:
        message_id = chat.next_message_id
        chat.next_message_id += 1
        return message_id

    def _store(self, message: ChatMessage) -> ChatMessage:
        self._replace(message)
        return message

    def _replace(self, message: ChatMessage) -> None:
        key = (message.chat_id, message.message_id)
        self._messages[key] = message
        self._history.setdefault(key, []).append(message)

    def message_json(self, message: ChatMessage) -> JSON:
        """Return the Bot API Message object for a stored message."""
        chat = self.chats[message.chat_id]
        data: JSON = {"message_id": message.message_id, "date": message.date, "chat": chat.to_api()}
        if chat.type == "channel":
            data["sender_chat"] = chat.to_api()
        elif message.from_bot:
            data["from"] = dict(self.bot_user)
        elif message.user_id is not None:
            data["from"] = self.users[message.user_id].to_api()
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = [e.to_api() for e in message.entities]
        if message.photo is not None:
            data["photo"] = photo_sizes(message.photo)
        if message.document is not None:
            doc = message.document
            data["document"] = {
                "file_id": doc.file_id,
                "file_unique_id": doc.file_id[-12:],
                "file_name": doc.file_name,
                "mime_type": doc.mime_type,
                "file_size": doc.size,
            }
        if message.caption is not None:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = [e.to_api() for e in message.caption_entities]
        if message.media_group_id is not None:
            data["media_group_id"] = message.media_group_id
        if message.reply_markup is not None:
            data["reply_markup"] = message.reply_markup
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.forward_origin is not None:
            data["forward_origin"] = message.forward_origin
        return data


def _asks_force_reply(markup: object) -> bool:
    return isinstance(markup, dict) and markup.get("force_reply") is True
