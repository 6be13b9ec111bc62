"""Every text the bot shows in a chat, in one catalogue: named keys, `str.format` fields.

Handlers, cards, alarms and notices ask `text(key, lang, **values)`; none spells its own
wording, so changing a sentence is one line here. `text` refuses a missing or an
unexpected value, so a template and its callers cannot drift apart silently;
`tests/test_texts.py` checks that every key is used and that each call fills exactly
its template's fields.

Two audiences. What a reader can see (the welcome, /help, /submit's prompts and
outcomes, the receipt's buttons, the notices of a decision or an expiry, a submitter's
own /mysubmissions /withdraw /credit /forgetme, "Not allowed.") is in
every `ChatLang`: `_EN` and `_ZH` hold the same keys with the same placeholders, and a
reader key has no default language (`text` refuses it without one), so a caller that
forgot the reader's language fails its test instead of answering a Chinese reader in
English. What only editors see (cards, alarms, notices) is `EDITOR_KEYS`: English only,
in `EDITOR_LANG`. A key is a reader's unless listed there, so a new reader text without
its Chinese is a failing test that names the key.

Templates marked HTML are Telegram HTML: callers escape the values they put in
(`html.escape`), the template's own tags stay. The posts to the channel and X are not
here: their wording is the post templates' (`publishers/templates/`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Final, Literal, get_args

ChatLang = Literal["zh", "en"]  # the languages the bot speaks to readers in
CHAT_LANGS: tuple[ChatLang, ...] = get_args(ChatLang)
EDITOR_LANG: Final[ChatLang] = "en"  # the one language of editor-facing texts

TextKey = Literal[
    # /start, /help and the command menu
    "start.welcome",
    "help.head",
    "help.line",
    "command.start",
    "command.help",
    "command.outbox",
    "command.lang",
    # /lang
    "lang.ask",
    "lang.set",
    "lang.unknown",
    "button.lang.zh",
    "button.lang.en",
    # every privileged button and command
    "editors_only.decide",
    "editors_only.outbox",
    "button.unknown",
    "decided.already",
    "who.you",
    "who.an_editor",
    # /outbox and the outbox cards (HTML)
    "outbox.summary",
    "outbox.empty",
    "outbox.need_you",
    "outbox.nothing_needs_you",
    "outbox.more",
    "outbox.outcome.again",
    "outbox.outcome.sent",
    "outbox.outcome.retry",
    "outbox.outcome.cancel",
    "outbox.outcome.skip",
    "outbox.outcome.dropall",
    "outbox.part_of_post",
    "outbox.part_question",
    "outbox.decided_by",
    "card.in_doubt",
    "card.failed",
    "card.stranded",
    "card.posted_without_id",
    "card.reason_unknown",
    "card.unreadable",
    "button.post_again",
    "button.mark_sent",
    "button.try_again",
    "button.drop_it",
    "button.send_rest",
    "button.drop_whole",
    # the preview card (HTML) and its buttons
    "preview.head",
    "preview.footer",
    "preview.waiting",
    "preview.edited_head",
    "preview.thread_head",
    "preview.when_format",
    "preview.now",
    "preview.edited",
    "preview.digest",
    "preview.items",
    "preview.nothing",
    "preview.target_line",
    "preview.target_refused",
    "preview.target_waiting",
    "button.publish_now",
    "button.schedule",
    "button.edit",
    "button.skip",
    "button.edit_platform",
    "button.back",
    "button.backfill",
    # files the ingest refused or stored quietly (HTML)
    "file.notice",
    "file.refused_head",
    "file.refused_then",
    "file.warnings_head",
    "file.warnings_then",
    "file.blob",
    "file.reason",
    "file.more_reasons",
    "backfill.list",
    "backfill.line",
    # the preview buttons' outcomes and the edit dialogue
    "backfill.not_stored",
    "backfill.nothing",
    "backfill.has_preview",
    "backfill.coming",
    "decided.published",
    "decided.scheduled",
    "decided.skipped",
    "edit.which",
    "edit.kept",
    "edit.not_this_platform",
    "edit.send_new",
    "edit.rule.telegram",
    "edit.rule.x",
    "edit.prompt",
    "edit.not_saved",
    "edit.too_late",
    "edit.saved",
    "digest.empty",
    "digest.bad_html",
    "digest.too_long_telegram",
    "digest.too_much_formatting",
    "digest.too_long_x",
    # a language that landed after its preview
    "late.head",
    "late.target",
    "late.added",
    "late.skipped",
    "late.queued",
    # alarms (HTML)
    "alarm.silence",
    "alarm.silence_clear",
    "alarm.newest",
    "alarm.newest_unknown",
    "alarm.source_failing",
    "alarm.source_clear",
    "alarm.unknown_error",
    # reader submissions (/submit, the review card)
    "command.submit",
    "command.cancel",
    "submit.ask",
    "submit.in_private",
    "button.submit_private",
    "submit.cancelled",
    "submit.nothing_to_cancel",
    "submit.accepted",
    "submit.featured",
    "submit.featured_no_link",
    "submit.waiting",
    "submit.taken",
    "submit.refused",
    "refused.empty",
    "refused.syntax",
    "refused.scheme",
    "refused.length",
    "refused.host",
    "refused.note",
    "submit.over.cooldown",
    "submit.over.daily_cap",
    "submit.over.pending_per_user",
    "submit.over.pending_total",
    "submit.banned",
    "submit.disabled",
    "submit.time_format",
    "button.reader.for",
    "button.reader.for_set",
    "button.reader.solves",
    "button.reader.solves_set",
    "button.reader.level",
    "button.reader.level_set",
    "button.credit.username",
    "button.credit.name",
    "button.credit.anonymous",
    "button.credit.chosen",
    "button.level.beginner",
    "button.level.intermediate",
    "button.level.advanced",
    "reader.pick_level",
    "reader.level_saved",
    "reader.ask.for_whom",
    "reader.ask.solves",
    "reader.send_it",
    "reader.field_saved",
    "reader.field.for_whom",
    "reader.field.solves",
    "reader.field_too_long",
    "credit.saved_username",
    "credit.saved_name",
    "credit.saved_anonymous",
    "reader.decided",
    "told.published",
    "told.published_no_link",
    "told.draft",
    "told.rejected",
    "told.expired",
    # a submitter's own tools: /mysubmissions, /withdraw, /credit, /forgetme
    "command.mysubmissions",
    "command.withdraw",
    "command.credit",
    "command.forgetme",
    "mine.none",
    "mine.in_private",
    "mine.head",
    "mine.line",
    "mine.reason",
    "mine.posted",
    "mine.state.pending",
    "mine.state.approved",
    "mine.state.draft",
    "mine.state.published",
    "mine.state.rejected",
    "mine.state.withdrawn",
    "mine.state.expired",
    "withdraw.usage",
    "withdraw.unknown",
    "withdraw.too_late",
    "withdraw.done",
    "credit.ask",
    "forget.ask",
    "button.forget.ok",
    "forget.cancelled",
    "forget.answered",
    "forget.done_short",
    "forget.done",
    # the editors' daily reminder (HTML)
    "reminder.head",
    "reminder.expired",
    "reminder.line",
    "reminder.age_hours",
    "reminder.age_days",
    "reminder.more",
    "reminder.opened",
    "button.reminder.open",
    "reason.duplicate",
    "reason.off_topic",
    "reason.low_quality",
    "reason.paywalled",
    "reason.broken_link",
    "reason.banned",
    "reason.other",
    "reason.unknown",
    "review.head",
    "review.title",
    "review.no_title",
    "review.urls",
    "review.note",
    "review.field",
    "review.anonymous",
    "review.forgotten",
    "review.by",
    "review.dupes",
    "review.dupe_issue",
    "review.dupe_submission",
    "review.fetched",
    "review.fetch_failed",
    "review.fetch_pending",
    "review.edit_line",
    "review.waiting",
    "review.decided",
    "review.reason",
    "review.state.approved",
    "review.state.draft",
    "review.state.published",
    "review.state.rejected",
    "review.state.banned",
    "review.state.withdrawn",
    "review.state.expired",
    "button.approve",
    "button.draft_only",
    "button.edit_sub",
    "button.reject",
    "button.ban",
    "button.reason.duplicate",
    "button.reason.off_topic",
    "button.reason.low_quality",
    "button.reason.paywalled",
    "button.reason.broken_link",
    "button.reason.other",
    "button.save",
    "button.cancel",
    "review.not_allowed",
    "review.gone",
    "review.already",
    "review.done",
    "review.pick_reason",
    "review.pick_platform",
    "review.back",
    "review.reason_prompt",
    "review.edit_prompt",
    "review.edit_preview",
    "review.x_cannot",
    "review.edit_problem",
    "review.edit_saved",
    "review.edit_dropped",
    "review.edit_stale",
    "verb.approved",
    "verb.draft",
    "verb.published",
    "verb.rejected",
    "verb.banned",
    "verb.withdrawn",
    "verb.expired",
    # the bot itself
    "error.notice",
    "template.problem",
    "start_checks.problems",
    "start_checks.problem",
    "dry_run.mark",
    "dry_run.note_before",
    "dry_run.note_edited",
]

_EN: dict[TextKey, str] = {
    "start.welcome": (
        "Hi! I'm the bot of Python Trending Weekly (Python潮流周刊).\n"
        "The channel gets every new issue, item by item, plus extra links between issues.\n"
        "Send /help to see what I can do."
    ),
    "help.head": "Commands:",
    "help.line": "/{name} - {description}",
    "command.start": "What this bot is and how to follow the weekly",
    "command.help": "List the commands",
    "command.outbox": "Posts that need an editor: in doubt or failed",
    "command.lang": "Choose the bot's language: /lang zh or /lang en",
    "lang.ask": "Which language should I use with you?",
    "lang.set": "OK, I'll write to you in English from now on.",
    "lang.unknown": "I speak Chinese and English: send /lang zh or /lang en.",
    "button.lang.zh": "中文",
    "button.lang.en": "English",
    "editors_only.decide": "Only editors can decide this.",
    "editors_only.outbox": "Only editors can see the outbox.",
    "button.unknown": "Unknown button.",
    "decided.already": "Already decided.",
    "who.you": "you",
    "who.an_editor": "an editor",
    "outbox.summary": "Outbox: {summary}.\n{need}",
    "outbox.empty": "empty",
    "outbox.need_you": "{count} post(s) need you.",
    "outbox.nothing_needs_you": "Nothing needs you.",
    "outbox.more": "…and more; settle these first, then send /outbox again.",
    "outbox.outcome.again": "queued to post again",
    "outbox.outcome.sent": "marked as sent",
    "outbox.outcome.retry": "queued to try again",
    "outbox.outcome.cancel": "dropped",
    "outbox.outcome.skip": "dropped; the rest of the post goes out without it",
    "outbox.outcome.dropall": "dropped with the whole post",
    "outbox.part_of_post": "This is one part of a post: choose what happens to the rest.",
    "outbox.part_question": (
        "{card}\n\nDrop only this part and send the rest without it, or drop the whole post?"
    ),
    "outbox.decided_by": "{card}\n\n→ {outcome} by {actor}",
    "card.in_doubt": (
        "⚠️ <b>May have been posted</b> to {target} (outbox #{id}).\n"
        "Reason: {reason}\n\n{preview}\n\nCheck the channel, then choose."
    ),
    "card.failed": (
        "❌ <b>Not posted</b> to {target} (outbox #{id}).\nReason: {reason}\n\n{preview}"
    ),
    "card.stranded": (
        "⏸ <b>Waiting behind a dropped part</b> on {target} (outbox #{id}).\n"
        "This part was dropped; {waiting} later part(s) of the same post wait for it.\n\n"
        "{preview}\n\nSend the rest without it, or drop the whole post?"
    ),
    "card.posted_without_id": (
        "ℹ️ <b>Posted, but its id was not found</b> on {target} (outbox #{id}).\n"
        "The platform refused a resend as a duplicate, so the post is there, but it is not "
        "among the account's recent posts. Later parts of its thread go out as posts of "
        "their own; check the account.\n\n{preview}"
    ),
    "card.reason_unknown": "unknown",
    "card.unreadable": "(unreadable payload: {error})",
    "button.post_again": "Post again",
    "button.mark_sent": "Mark as sent",
    "button.try_again": "Try again",
    "button.drop_it": "Drop it",
    "button.send_rest": "Send the rest without it",
    "button.drop_whole": "Drop the whole post",
    "preview.head": "📰 <b>New issue #{number}</b> (preview {id})",
    "preview.footer": "Times in {zone}.\n{status}",
    "preview.waiting": "Waiting for an editor.",
    "preview.edited_head": "✏️ <b>{platform} digest</b>, edited by {who}:",
    "preview.thread_head": (
        "{badge}<b>{platform} thread as it will be posted</b> ({count} post{plural}):"
    ),
    "preview.when_format": "%a %d %b %H:%M",
    "preview.now": "now",
    "preview.edited": " (edited)",
    "preview.digest": "digest{edited} in {count} post{plural} at {when}",
    "preview.items": "{count} items, {rate} a day, {first} → {last}",
    "preview.nothing": "nothing",
    "preview.target_line": "• {platform} ({lang}): {summary}",
    "preview.target_refused": (
        "• {platform} ({lang}): the {lang} file was refused: {reason};"
        " a fixed file follows this decision"
    ),
    "preview.target_waiting": (
        "• {platform} ({lang}): waiting for the {lang} file; it follows this decision when it lands"
    ),
    "button.publish_now": "Publish now",
    "button.schedule": "Schedule as planned",
    "button.edit": "Edit",
    "button.skip": "Skip",
    "button.edit_platform": "Edit {platform}",
    "button.back": "Back",
    "button.backfill": "Backfill #{number}",
    "file.notice": "{head}: <code>{path}</code>{blob}\n{reasons}\n{then}",
    "file.refused_head": "⛔ <b>File refused</b>",
    "file.refused_then": "Nothing is stored or published from it; fix the file and push again.",
    "file.warnings_head": "⚠️ <b>File parsed with warnings</b>",
    "file.warnings_then": "It is stored; check the preview before deciding.",
    "file.blob": " (blob {blob})",
    "file.reason": "• {reason}",
    "file.more_reasons": "\n… and {count} more",
    "backfill.list": (
        "🗄 <b>Files of old issues stored quietly</b> (not announced as new):\n{lines}\n"
        "[Backfill] makes a preview of that issue with what is stored."
    ),
    "backfill.line": "• #{number}: {langs}",
    "backfill.not_stored": "#{number} is not stored.",
    "backfill.nothing": "#{number}: nothing for the configured targets.",
    "backfill.has_preview": "#{number} has a preview already ({status}).",
    "backfill.coming": "Preview of #{number} coming.",
    "decided.published": "✅ Published now by {who}.",
    "decided.scheduled": "🗓 Scheduled as planned by {who}.",
    "decided.skipped": "⏭ Skipped by {who}: nothing was queued.",
    "edit.which": "Which platform's digest?",
    "edit.kept": "Kept as it is.",
    "edit.not_this_platform": "This issue does not go to that platform.",
    "edit.send_new": "Send the new {platform} digest.",
    "edit.rule.telegram": "Telegram HTML, at most {max} characters",
    "edit.rule.x": "at most {max} weighted characters (links 23, CJK and emoji 2)",
    "edit.prompt": (
        "Send the new {platform} digest of issue #{number} as your next message"
        " ({rule}). Press Back on the card to keep the current one."
    ),
    "edit.not_saved": (
        "Not saved. {problem}\nSend a corrected {platform} text,"
        " or press Back on the card to keep the current one."
    ),
    "edit.too_late": "This preview was already decided; the text was not used.",
    "edit.saved": "Saved: this is now the {platform} digest of the card.",
    "digest.empty": "The text is empty.",
    "digest.bad_html": "Telegram cannot parse this HTML: {error}. Escape < > & as &lt; &gt; &amp;.",
    "digest.too_long_telegram": "Too long for Telegram: {length}/{max} characters.",
    "digest.too_much_formatting": "Too much formatting: {count}/{max} entities.",
    "digest.too_long_x": (
        "Too long for X: {weight}/{max} weighted characters (links count 23, CJK and emoji 2)."
    ),
    "late.head": "#{number}: {targets} arrived",
    "late.target": "{target} ({lang})",
    "late.added": "{head}; added to preview {id}.",
    "late.skipped": "{head}; the issue was skipped, nothing is queued.",
    "late.queued": "{head}; {count} post(s) queued as {status} by {who}.",
    "alarm.silence": (
        "⏰ <b>No new issue for {days:.0f} days</b> (more than {limit:g}).\n"
        "The newest is {newest}. Is the source still publishing, and can the bot still read it?"
    ),
    "alarm.silence_clear": "✅ <b>New issues arrive again</b>: the newest is {newest}.",
    "alarm.newest": "#{number} of {date}",
    "alarm.newest_unknown": "unknown",
    "alarm.source_failing": (
        "🚨 <b>Source {source} failed {count} polls in a row</b>.\nLast error: {error}"
    ),
    "alarm.source_clear": "✅ <b>Source {source} works again.</b>",
    "alarm.unknown_error": "unknown error",
    "command.submit": "Send a link for the channel: /submit <url> [note]",
    "command.cancel": "Stop what the bot is waiting for (a link, an edit)",
    "submit.ask": (
        "Send me the link, and a note if you like (for: … solves: … level: …), or /cancel."
    ),
    "submit.in_private": "Send it to me in private, please: the button opens our chat.",
    "button.submit_private": "Submit in private",
    "submit.cancelled": "Cancelled.",
    "submit.nothing_to_cancel": "Nothing to cancel.",
    "submit.accepted": "Received, #{id}: an editor will look at it.",
    "submit.featured": "Already featured in issue #{number} ({date}): {url}",
    "submit.featured_no_link": "Already featured in issue #{number} ({date}).",
    "submit.waiting": "Already submitted (#{id}), waiting for review.",
    "submit.taken": "Already submitted (#{id}) and approved by the editors.",
    "submit.refused": "Not accepted ({rule}): {message}",
    # A refusal's reason per rule. An English reply carries the link rules' own detailed
    # reason instead (`bot.domain.urls`, `bot.submissions.rules` word it in English).
    "refused.empty": "Send a link, for example {example}",
    "refused.syntax": (
        "A link has no spaces, backslashes, user name or password, and a port is a number"
        " from 1 to 65535; send just the link, for example {example}"
    ),
    "refused.scheme": "A link starts with https:// or http://, for example {example}",
    "refused.length": (
        "The link is too long; send the page's address without extra parameters,"
        " for example {example}"
    ),
    "refused.host": (
        "Send a public web site's name (not an IP address or a local name), for example {example}"
    ),
    "refused.note": "The note is too long; keep it short, for example: {example}",
    "submit.over.cooldown": (
        "Please wait a little ({limit} s between links): the next one is welcome from {when}."
    ),
    "submit.over.daily_cap": (
        "You sent {limit} links in the last 24 hours; the next one is welcome from {when}."
    ),
    "submit.over.pending_per_user": (
        "You have {limit} links waiting for review; send more once an editor has looked at them."
    ),
    "submit.over.pending_total": (
        "The editors have {limit} links to review; please try again once they have caught up."
    ),
    "submit.banned": "Sorry, this bot does not take links from you.",
    "submit.disabled": "Submissions are switched off for now.",
    "submit.time_format": "%d %b %H:%M UTC",
    "button.reader.for": "👥 For whom",
    "button.reader.for_set": "👥 For: {value}",
    "button.reader.solves": "🧩 Solves",
    "button.reader.solves_set": "🧩 Solves: {value}",
    "button.reader.level": "🎓 Level",
    "button.reader.level_set": "🎓 Level: {value}",
    "button.credit.username": "👤 @{handle}",
    "button.credit.name": "👤 My name",
    "button.credit.anonymous": "🙈 Anonymous",
    "button.credit.chosen": "✅ {label}",
    "button.level.beginner": "Beginner",
    "button.level.intermediate": "Intermediate",
    "button.level.advanced": "Advanced",
    "reader.pick_level": "Pick a level.",
    "reader.level_saved": "Level saved: {level}.",
    "reader.ask.for_whom": "Who is #{id} for? Send it in one message, or /cancel.",
    "reader.ask.solves": "What problem does #{id} solve? Send it in one message, or /cancel.",
    "reader.send_it": "Send it as a message.",
    "reader.field_saved": "Saved for #{id}: {name}: {value}",
    "reader.field.for_whom": "for",
    "reader.field.solves": "solves",
    "reader.field_too_long": (
        "That is {length} characters; at most {limit} are kept. Send a shorter one, or /cancel."
    ),
    "credit.saved_username": "Saved for all your links: the posts will say via @{handle}.",
    "credit.saved_name": "Saved for all your links: the posts will name you.",
    "credit.saved_anonymous": "Saved for all your links: the posts will not name you.",
    "reader.decided": "Already decided: an editor has looked at #{id}.",
    "told.published": "🎉 Your link #{id} is on the channel: {link}",
    "told.published_no_link": "🎉 Your link #{id} is on the channel.",
    "told.draft": "👍 Your link #{id} was approved: it is kept for the next issue.",
    "told.rejected": "Your link #{id} was not taken: {reason}. Thank you for sending it.",
    "told.expired": (
        "⌛ Your link #{id} waited too long for review and has expired. Thank you for "
        "sending it; you may send it again."
    ),
    "command.mysubmissions": "Your last links and what became of them",
    "command.withdraw": "Take back a link still waiting for review: /withdraw <id>",
    "command.credit": "How posts credit you: @username, your name, or anonymous",
    "command.forgetme": "Delete your name, username, language and notes from the bot",
    "mine.none": "You have not sent any link yet: /submit <url> sends one.",
    "mine.in_private": "Please ask me in a private chat: this is about your own links.",
    "mine.head": "Your last {count} link(s), newest first:",
    "mine.line": "#{id} · {state}\n{url}",
    "mine.reason": "Reason: {reason}",
    "mine.posted": "On the channel: {link}",
    "mine.state.pending": "⏳ waiting for review",
    "mine.state.approved": "✅ approved, being posted",
    "mine.state.draft": "📝 kept for the next issue",
    "mine.state.published": "🎉 on the channel",
    "mine.state.rejected": "❌ not taken",
    "mine.state.withdrawn": "↩️ withdrawn by you",
    "mine.state.expired": "⌛ expired before review",
    "withdraw.usage": (
        "Send /withdraw and the link's number, e.g. /withdraw 12 (/mysubmissions lists them)."
    ),
    "withdraw.unknown": "You have no link #{id}. /mysubmissions lists yours.",
    "withdraw.too_late": "#{id} can no longer be withdrawn: it was {decision} already.",
    "withdraw.done": "↩️ #{id} withdrawn: the editors will not review it.",
    "credit.ask": (
        "How should posts of your links credit you? Your choice applies to your links "
        "waiting for review and to the next ones; links already approved keep theirs."
    ),
    "forget.ask": (
        "This deletes what the bot keeps about you: your name, @username, language, notes "
        "and fields of your {count} link(s). The {pending} still waiting for review are withdrawn. "
        "Posts already on the channel stay as they are; your numeric id stays with your "
        "past links (limits and editors' decisions still count). This cannot be undone."
    ),
    "button.forget.ok": "🗑 Forget me",
    "forget.cancelled": "Nothing was deleted.",
    "forget.answered": "This request was answered already; send /forgetme to ask again.",
    "forget.done_short": "Done.",
    "forget.done": (
        "Done: the bot no longer keeps your name, @username, language, notes or fields; "
        "{withdrawn} link(s) waiting for review were withdrawn."
    ),
    "reminder.head": "⏰ <b>{count} link(s) waiting for review for over {hours:g} h</b>",
    "reminder.expired": "⌛ {count} link(s) waited too long and expired; their senders are told.",
    "reminder.line": "#{id} · {age} · {domain} · {title}",
    "reminder.age_hours": "{hours} h",
    "reminder.age_days": "{days} days",
    "reminder.more": "…and {count} more.",
    "reminder.opened": "The card of #{id} follows.",
    "button.reminder.open": "📥 #{id}",
    "reason.duplicate": "it was featured or submitted before",
    "reason.off_topic": "it is off-topic for the weekly",
    "reason.low_quality": "it did not meet the weekly's bar",
    "reason.paywalled": "it is behind a paywall",
    "reason.broken_link": "the link does not work",
    "reason.banned": "this bot no longer takes links from you",
    "reason.other": "{words}",
    "reason.unknown": "no reason given",
    "review.head": "📥 <b>Submitted link #{id}</b>",
    "review.title": "<b>{title}</b>",
    "review.no_title": "(no title)",
    "review.urls": "Sent: {original}\nCanonical: {canonical}\nDomain: {domain}",
    "review.note": "Note: {note}",
    "review.field": "{name}: {value}",
    "review.anonymous": "Credit: anonymous (the posts name nobody)",
    "review.forgotten": "From: a reader who asked to be forgotten [{user_id}]",
    "review.by": "From: {name}{username} [{user_id}], {accepted} link(s) accepted before",
    "review.dupes": "⚠️ Seen before: {hints}",
    "review.dupe_issue": "issue #{number}",
    "review.dupe_submission": "#{id} ({state})",
    "review.fetched": "Preview: fetched",
    "review.fetch_failed": "Preview: not fetched: {error}",
    "review.fetch_pending": "Preview: not fetched yet",
    "review.edit_line": "✏️ {platform} by {who}: {title} | {comment}",
    "review.waiting": "Waiting for an editor.",
    "review.decided": "{decision} by {who} at {when}",
    "review.reason": "Reason: {reason}",
    "review.state.approved": "✅ Approved",
    "review.state.draft": "📝 Kept for the draft",
    "review.state.published": "✅ Approved and posted",
    "review.state.rejected": "❌ Rejected",
    "review.state.banned": "🚫 Banned",
    "review.state.withdrawn": "↩️ Withdrawn",
    "review.state.expired": "⌛ Expired",
    "button.approve": "✅ Approve",
    "button.draft_only": "📝 Draft only",
    "button.edit_sub": "✏️ Edit",
    "button.reject": "❌ Reject",
    "button.ban": "🚫 Ban",
    "button.reason.duplicate": "Duplicate",
    "button.reason.off_topic": "Off-topic",
    "button.reason.low_quality": "Low quality",
    "button.reason.paywalled": "Paywalled",
    "button.reason.broken_link": "Broken link",
    "button.reason.other": "Other…",
    "button.save": "Save",
    "button.cancel": "Cancel",
    "review.not_allowed": "Not allowed.",
    "review.gone": "This link is no longer known.",
    "review.already": "Already {decision} by {who} at {when}.",
    "review.done": "{decision} by you.",
    "review.pick_reason": "Why is it rejected?",
    "review.pick_platform": "Which platform's text?",
    "review.back": "Back to the decision.",
    "review.reason_prompt": (
        "Send the reason for #{id} in one message (the reader sees it), or /cancel."
    ),
    "review.edit_prompt": (
        "Send the {platform} text of #{id}: title | comment, or the title on the first "
        "line and the comment after it. /cancel keeps it as it is."
    ),
    "review.edit_preview": (
        "{platform} text of #{id} if saved:\n\n<b>Telegram</b>:\n{telegram}\n\n<b>X</b> "
        "({weight}/{max}):\n{x}"
    ),
    "review.x_cannot": "(X cannot take this link)",
    "review.edit_problem": "Not saved: {problem}\nSend a corrected text, or /cancel.",
    "review.edit_saved": "Saved.",
    "review.edit_dropped": "Not saved.",
    "review.edit_stale": "Nothing to save any more.",
    "verb.approved": "approved",
    "verb.draft": "kept for the draft",
    "verb.published": "approved and posted",
    "verb.rejected": "rejected",
    "verb.banned": "banned",
    "verb.withdrawn": "withdrawn",
    "verb.expired": "expired",
    "error.notice": "⚠️ The bot failed on update {update_id} ({kind}); the details are in its log.",
    "template.problem": (
        "⚠️ Post template <code>{name}</code> ({digest}) is not used: {error}\n"
        "Posts use the built-in default until the file is fixed."
    ),
    "start_checks.problems": "⚠️ The bot started with problems:\n{problems}",
    "start_checks.problem": "• {problem}",
    "dry_run.mark": "🧪 DRY RUN (nothing is posted)\n",
    "dry_run.note_before": (
        "🧪 DRY RUN (nothing is posted): the next message belongs to the rehearsal."
    ),
    "dry_run.note_edited": (
        "🧪 DRY RUN (nothing is posted): the message this replies to was edited in the rehearsal."
    ),
}

_ZH: dict[TextKey, str] = {
    "start.welcome": (
        "你好！我是「Python潮流周刊」的机器人。\n"
        "频道会逐条发布每一期的新内容，两期之间也会分享额外的好链接。\n"
        "发送 /help 查看我能做什么。"
    ),
    "help.head": "可用命令：",
    "help.line": "/{name} - {description}",
    "command.start": "介绍这个机器人，以及如何关注周刊",
    "command.help": "列出所有命令",
    "command.outbox": "需要编辑处理的帖子：可能已发出或发送失败",
    "command.lang": "切换语言：/lang zh 或 /lang en",
    "lang.ask": "想让我用哪种语言和你交流？",
    "lang.set": "好的，之后我会用中文和你交流。",
    "lang.unknown": "我会说中文和英文：发送 /lang zh 或 /lang en。",
    "button.lang.zh": "中文",
    "button.lang.en": "English",
    "editors_only.decide": "只有编辑才能做这个决定。",
    "editors_only.outbox": "只有编辑才能查看发件箱。",
    "button.unknown": "未知按钮。",
    "command.submit": "向频道推荐链接：/submit <链接> [备注]",
    "command.cancel": "取消机器人正在等你发送的内容（链接、修改）",
    "submit.ask": (
        "请把链接发给我，也可以附上备注（for: … solves: … level: …），或发送 /cancel 取消。"
    ),
    "submit.in_private": "请私聊发给我：点下面的按钮打开私聊。",
    "button.submit_private": "私聊推荐",
    "submit.cancelled": "已取消。",
    "submit.nothing_to_cancel": "没有需要取消的操作。",
    "submit.accepted": "收到，编号 #{id}，编辑会尽快查看。",
    "submit.featured": "这个链接已收录在第 {number} 期（{date}）：{url}",
    "submit.featured_no_link": "这个链接已收录在第 {number} 期（{date}）。",
    "submit.waiting": "这个链接已经有人推荐过（#{id}），正在等待审核。",
    "submit.taken": "这个链接已经有人推荐过（#{id}），编辑已经采纳。",
    "submit.refused": "没能收下（{rule}）：{message}",
    "refused.empty": "请发送一个链接，例如 {example}",
    "refused.syntax": (
        "链接里不能有空格、反斜杠、用户名或密码，端口须是 1 到 65535 之间的数字；"
        "请只发送链接本身，例如 {example}"
    ),
    "refused.scheme": "只接受以 https:// 或 http:// 开头的链接，例如 {example}",
    "refused.length": "链接太长了，请去掉多余的参数，只发送页面地址，例如 {example}",
    "refused.host": "请发送公开网站的域名（不能是 IP 地址或内网地址），例如 {example}",
    "refused.note": "备注太长了，请写得简短一些，例如：{example}",
    "submit.over.cooldown": "请稍等一下（两次推荐至少间隔 {limit} 秒），{when} 之后可以再发。",
    "submit.over.daily_cap": "你在过去 24 小时里已经推荐了 {limit} 个链接，{when} 之后可以再发。",
    "submit.over.pending_per_user": ("你已有 {limit} 个链接在等待审核，等编辑看过之后再推荐吧。"),
    "submit.over.pending_total": "编辑们还有 {limit} 个链接待审核，请等他们处理完再试。",
    "submit.banned": "抱歉，这个机器人不再接收你推荐的链接。",
    "submit.disabled": "推荐功能暂时关闭。",
    "submit.time_format": "%Y-%m-%d %H:%M UTC",
    "button.reader.for": "👥 适合谁",
    "button.reader.for_set": "👥 适合：{value}",
    "button.reader.solves": "🧩 解决什么问题",
    "button.reader.solves_set": "🧩 解决：{value}",
    "button.reader.level": "🎓 难度",
    "button.reader.level_set": "🎓 难度：{value}",
    "button.credit.username": "👤 @{handle}",
    "button.credit.name": "👤 署我的名字",
    "button.credit.anonymous": "🙈 匿名",
    "button.credit.chosen": "✅ {label}",
    "button.level.beginner": "入门",
    "button.level.intermediate": "进阶",
    "button.level.advanced": "高级",
    "button.back": "返回",
    "reader.pick_level": "请选择难度。",
    "reader.level_saved": "难度已保存：{level}。",
    "reader.ask.for_whom": "#{id} 适合哪些人？请用一条消息告诉我，或发送 /cancel 取消。",
    "reader.ask.solves": "#{id} 能解决什么问题？请用一条消息告诉我，或发送 /cancel 取消。",
    "reader.send_it": "请直接发一条消息告诉我。",
    "reader.field_saved": "已为 #{id} 保存{name}：{value}",
    "reader.field.for_whom": "适合人群",
    "reader.field.solves": "解决的问题",
    "reader.field_too_long": (
        "这段有 {length} 个字符，最多只保留 {limit} 个。请发一段短一些的，或发送 /cancel 取消。"
    ),
    "credit.saved_username": "已保存，对你所有的链接生效：发布时会注明来自 @{handle}。",
    "credit.saved_name": "已保存，对你所有的链接生效：发布时会署上你的名字。",
    "credit.saved_anonymous": "已保存，对你所有的链接生效：发布时不会出现你的名字。",
    "reader.decided": "已经有结果了：编辑已处理过 #{id}。",
    "told.published": "🎉 你推荐的链接 #{id} 已发布到频道：{link}",
    "told.published_no_link": "🎉 你推荐的链接 #{id} 已发布到频道。",
    "told.draft": "👍 你推荐的链接 #{id} 已被采纳，会收录进下一期周刊。",
    "told.rejected": "你推荐的链接 #{id} 这次没有被采用：{reason}。感谢推荐！",
    "told.expired": "⌛ 你推荐的链接 #{id} 等待审核太久，已经过期。感谢推荐，你可以重新发送。",
    "command.mysubmissions": "你最近推荐的链接及处理结果",
    "command.withdraw": "撤回仍在等待审核的链接：/withdraw <编号>",
    "command.credit": "发布时如何署名：@用户名、你的名字或匿名",
    "command.forgetme": "从机器人中删除你的名字、用户名、语言和备注",
    "mine.none": "你还没有推荐过链接：发送 /submit <链接> 即可推荐。",
    "mine.in_private": "请私聊问我：这涉及你自己推荐的链接。",
    "mine.head": "你最近的 {count} 个链接，最新的在前：",
    "mine.line": "#{id} · {state}\n{url}",
    "mine.reason": "原因：{reason}",
    "mine.posted": "已发布到频道：{link}",
    "mine.state.pending": "⏳ 等待审核",
    "mine.state.approved": "✅ 已采纳，正在发布",
    "mine.state.draft": "📝 已采纳，收录进下一期",
    "mine.state.published": "🎉 已发布到频道",
    "mine.state.rejected": "❌ 未被采用",
    "mine.state.withdrawn": "↩️ 已由你撤回",
    "mine.state.expired": "⌛ 未及审核，已过期",
    "withdraw.usage": (
        "请发送 /withdraw 加上链接的编号，例如 /withdraw 12（/mysubmissions 会列出编号）。"
    ),
    "withdraw.unknown": "你没有编号为 #{id} 的链接。/mysubmissions 会列出你的链接。",
    "withdraw.too_late": "#{id} 已经不能撤回了：它已{decision}。",
    "withdraw.done": "↩️ #{id} 已撤回：编辑不会再审核它。",
    "credit.ask": (
        "发布你推荐的链接时，希望怎样署名？你的选择适用于正在等待审核的链接和之后推荐的链接；"
        "已经采纳的链接保持原样。"
    ),
    "forget.ask": (
        "这会删除机器人保存的关于你的信息：你的名字、@用户名、语言设置，以及你 {count} 个链接的"
        "备注和字段。其中仍在等待审核的 {pending} 个会被撤回。已经发布到频道的帖子保持不变；"
        "你的数字 ID 会保留在过去的链接上（频率限制和编辑的决定仍然有效）。此操作无法撤销。"
    ),
    "button.forget.ok": "🗑 删除我的信息",
    "button.cancel": "取消",
    "forget.cancelled": "没有删除任何内容。",
    "forget.answered": "这个请求已经处理过了；如需再次删除，请发送 /forgetme。",
    "forget.done_short": "已完成。",
    "forget.done": (
        "已完成：机器人不再保存你的名字、@用户名、语言设置、备注或字段；"
        "{withdrawn} 个等待审核的链接已撤回。"
    ),
    "verb.approved": "被采纳",
    "verb.draft": "被采纳，收录进下一期",
    "verb.published": "被采纳并发布",
    "verb.rejected": "被拒绝",
    "verb.banned": "被拒绝（不再接收你的推荐）",
    "verb.withdrawn": "撤回",
    "verb.expired": "过期",
    "reason.duplicate": "之前已经收录过或有人推荐过",
    "reason.off_topic": "和周刊的主题不太相关",
    "reason.low_quality": "没有达到周刊的收录标准",
    "reason.paywalled": "需要付费才能阅读",
    "reason.broken_link": "链接打不开",
    "reason.banned": "这个机器人不再接收你推荐的链接",
    "reason.other": "{words}",
    "reason.unknown": "没有说明原因",
    "review.not_allowed": "无权操作。",
    "review.gone": "找不到这个链接了。",
}

# What only editors see: English only (`EDITOR_LANG`); every other key is a reader's
# and must be in every language. Listed by key, so mypy checks the spelling.
EDITOR_KEYS: Final[frozenset[TextKey]] = frozenset(
    (
        "decided.already",
        "who.you",
        "who.an_editor",
        "outbox.summary",
        "outbox.empty",
        "outbox.need_you",
        "outbox.nothing_needs_you",
        "outbox.more",
        "outbox.outcome.again",
        "outbox.outcome.sent",
        "outbox.outcome.retry",
        "outbox.outcome.cancel",
        "outbox.outcome.skip",
        "outbox.outcome.dropall",
        "outbox.part_of_post",
        "outbox.part_question",
        "outbox.decided_by",
        "card.in_doubt",
        "card.failed",
        "card.stranded",
        "card.posted_without_id",
        "card.reason_unknown",
        "card.unreadable",
        "button.post_again",
        "button.mark_sent",
        "button.try_again",
        "button.drop_it",
        "button.send_rest",
        "button.drop_whole",
        "preview.head",
        "preview.footer",
        "preview.waiting",
        "preview.edited_head",
        "preview.thread_head",
        "preview.when_format",
        "preview.now",
        "preview.edited",
        "preview.digest",
        "preview.items",
        "preview.nothing",
        "preview.target_line",
        "preview.target_refused",
        "preview.target_waiting",
        "button.publish_now",
        "button.schedule",
        "button.edit",
        "button.skip",
        "button.edit_platform",
        "button.backfill",
        "file.notice",
        "file.refused_head",
        "file.refused_then",
        "file.warnings_head",
        "file.warnings_then",
        "file.blob",
        "file.reason",
        "file.more_reasons",
        "backfill.list",
        "backfill.line",
        "backfill.not_stored",
        "backfill.nothing",
        "backfill.has_preview",
        "backfill.coming",
        "decided.published",
        "decided.scheduled",
        "decided.skipped",
        "edit.which",
        "edit.kept",
        "edit.not_this_platform",
        "edit.send_new",
        "edit.rule.telegram",
        "edit.rule.x",
        "edit.prompt",
        "edit.not_saved",
        "edit.too_late",
        "edit.saved",
        "digest.empty",
        "digest.bad_html",
        "digest.too_long_telegram",
        "digest.too_much_formatting",
        "digest.too_long_x",
        "late.head",
        "late.target",
        "late.added",
        "late.skipped",
        "late.queued",
        "alarm.silence",
        "alarm.silence_clear",
        "alarm.newest",
        "alarm.newest_unknown",
        "alarm.source_failing",
        "alarm.source_clear",
        "alarm.unknown_error",
        "review.head",
        "review.title",
        "review.no_title",
        "review.urls",
        "review.note",
        "review.field",
        "review.anonymous",
        "review.forgotten",
        "review.by",
        "review.dupes",
        "review.dupe_issue",
        "review.dupe_submission",
        "review.fetched",
        "review.fetch_failed",
        "review.fetch_pending",
        "review.edit_line",
        "review.waiting",
        "review.decided",
        "review.reason",
        "review.state.approved",
        "review.state.draft",
        "review.state.published",
        "review.state.rejected",
        "review.state.banned",
        "review.state.withdrawn",
        "review.state.expired",
        "button.approve",
        "button.draft_only",
        "button.edit_sub",
        "button.reject",
        "button.ban",
        "button.reason.duplicate",
        "button.reason.off_topic",
        "button.reason.low_quality",
        "button.reason.paywalled",
        "button.reason.broken_link",
        "button.reason.other",
        "button.save",
        "review.already",
        "review.done",
        "review.pick_reason",
        "review.pick_platform",
        "review.back",
        "review.reason_prompt",
        "review.edit_prompt",
        "review.edit_preview",
        "review.x_cannot",
        "review.edit_problem",
        "review.edit_saved",
        "review.edit_dropped",
        "review.edit_stale",
        "reminder.head",
        "reminder.expired",
        "reminder.line",
        "reminder.age_hours",
        "reminder.age_days",
        "reminder.more",
        "reminder.opened",
        "button.reminder.open",
        "error.notice",
        "template.problem",
        "start_checks.problems",
        "start_checks.problem",
        "dry_run.mark",
        "dry_run.note_before",
        "dry_run.note_edited",
    )
)

CATALOGUE: Final[Mapping[ChatLang, Mapping[TextKey, str]]] = MappingProxyType(
    {"en": MappingProxyType(_EN), "zh": MappingProxyType(_ZH)}
)
TEMPLATES: Final[Mapping[TextKey, str]] = CATALOGUE["en"]  # every key, in English


class TextError(KeyError):
    """A text asked for with values its template does not have, or without one it has,
    or a reader's text asked for without the reader's language."""


def lang_of_code(language_code: str | None) -> ChatLang:
    """A Telegram client's `language_code` as the bot's language: zh* is zh, else en."""
    return "zh" if (language_code or "").lower().startswith("zh") else "en"


def template(key: TextKey, lang: ChatLang | None = None) -> str:
    """The template of `key` for `lang`: an editor key is English whatever `lang` is."""
    if key in EDITOR_KEYS:
        return _EN[key]
    if lang is None:
        raise TextError(f"text {key!r} is a reader's: pass the reader's language")
    try:
        return CATALOGUE[lang][key]
    except KeyError:
        raise TextError(f"text {key!r} has no {lang!r} template") from None


@cache
def fields(key: TextKey, lang: ChatLang = "en") -> frozenset[str]:
    """The names a template's placeholders take (``{days:.0f}`` is ``days``)."""
    return frozenset(
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(CATALOGUE[lang][key])
        if name
    )


def text(key: TextKey, lang: ChatLang | None = None, /, **values: object) -> str:
    """The text under ``key`` in ``lang`` with its fields filled; every field, and no other.

    ``lang`` is positional, so a template's own ``{lang}`` field stays a value. A reader's
    key needs it (`TextError` without); an editor key (`EDITOR_KEYS`) is English.
    """
    chosen = template(key, lang)
    wanted = fields(key)
    if wanted != values.keys():
        missing = sorted(wanted - values.keys())
        extra = sorted(values.keys() - wanted)
        raise TextError(f"text {key!r}: missing {missing}, unexpected {extra}")
    return chosen.format(**values)
