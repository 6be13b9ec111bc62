"""Every text the bot shows in a chat, in one catalogue: named keys, `str.format` fields.

Handlers, cards, alarms and notices ask `text(key, **values)`; none spells its own
wording, so changing a sentence is one line here, and the template and language work
to come replaces `TEMPLATES` (one mapping per language) without touching a caller.
`text` refuses a missing or an unexpected value, so a template and its callers cannot
drift apart silently; `tests/test_texts.py` checks that every key is used and that each
call fills exactly its template's fields.

Templates marked HTML are Telegram HTML: callers escape the values they put in
(`html.escape`), the template's own tags stay. The posts to the channel and X are not
here: their wording is the post templates' (`publishers/templates/`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Final, Literal

TextKey = Literal[
    # /start, /help and the command menu
    "start.welcome",
    "help.head",
    "help.line",
    "command.start",
    "command.help",
    "command.outbox",
    "command.status",
    "command.pause",
    "command.resume",
    "command.retry",
    "command.skip",
    "command.backfill",
    "command.unknown",
    # every privileged button and command
    "editors_only.decide",
    "editors_only.outbox",
    "editors_only.command",
    # the admin commands: /status (HTML), /pause, /resume, /retry, /skip, /backfill
    "status.message",
    "status.source",
    "status.source_ok",
    "status.source_error",
    "status.no_sources",
    "status.never",
    "status.target",
    "status.paused_by",
    "status.held",
    "status.quota",
    "status.quota_window",
    "status.quota_unknown",
    "status.none_paused",
    "status.queue",
    "status.queue_empty",
    "admin.unknown_target",
    "admin.one_target",
    "pause.done",
    "pause.already",
    "resume.done",
    "resume.already",
    "admin.usage_id",
    "admin.no_row",
    "admin.row_done",
    "admin.retry_state",
    "admin.retry_in_doubt",
    "admin.skip_state",
    "admin.skip_rest",
    "admin.usage_backfill",
    "admin.backfill_working",
    "admin.backfill_failed",
    "admin.backfill_decided",
    "admin.backfill_cards",
    "admin.backfill_cards_before",
    "admin.backfill_no_chat",
    "admin.backfill_none_queued",
    "admin.backfill_queued",
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
    # the extra edition: /extra, /queue, their cards and buttons
    "command.extra",
    "command.queue",
    "button.queue_sub",
    "extra.in_private",
    "extra.usage",
    "extra.refused",
    "extra.seen.issue",
    "extra.seen.submission",
    "extra.seen.extra",
    "extra.forward_not_editor",
    "extra.no_link",
    "extra.gone",
    "extra.already",
    "extra.posting",
    "extra.queued",
    "extra.dropped",
    "extra.send_edit",
    "extra.edit_prompt",
    "extra.send_time",
    "extra.time_prompt",
    "extra.moved",
    "extra.not_moved",
    "extra.cancelled",
    "extra.not_queued",
    "extra.edit_problem",
    "extra.edit_stale",
    "extra.edit_saved",
    "extra.time_bad",
    "extra.pinned",
    "extra.state.posted",
    "extra.state.queued",
    "extra.state.dropped",
    "extra.state.cancelled",
    "extra.card.head",
    "extra.card.url",
    "extra.card.cannot",
    "extra.card.post",
    "extra.card.waiting",
    "extra.card.decided",
    "button.extra.now",
    "button.extra.queue",
    "button.extra.edit",
    "button.extra.drop",
    "extra.queue.empty",
    "extra.queue.head",
    "extra.queue.line",
    "extra.queue.line_pinned",
    "extra.queue.from_reader",
    "extra.queue.more",
    "button.queue.up",
    "button.queue.down",
    "button.queue.at",
    "button.queue.cancel",
    # the Sunday roundup: /roundup and the editors' report
    "command.roundup",
    "roundup.off",
    "roundup.fetching",
    "roundup.queued",
    "roundup.nothing",
    "roundup.left_out",
    "roundup.problem.failed",
    "roundup.problem.empty",
    "roundup.problem.undated",
    "roundup.problem.stale",
    "roundup.problem.posted",
    "roundup.preview_head",
    "roundup.preview_nothing",
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
    "editors_only.decide": "Only editors can decide this.",
    "editors_only.outbox": "Only editors can see the outbox.",
    "editors_only.command": "This command is for editors.",
    "command.status": "Sources, outbox, quota, pauses and the queue at a glance",
    "command.pause": "Stop posting: /pause [target] (no target: all)",
    "command.resume": "Post again after /pause: /resume [target] (no target: all)",
    "command.retry": "Send a failed or doubtful post again: /retry <outbox id>",
    "command.skip": "Never send this post (the rest of its thread goes on): /skip <outbox id>",
    "command.backfill": "Ingest an older issue and preview it: /backfill <issue number>",
    "command.unknown": "I don't know /{name}. Send /help to see the commands.",
    "status.message": (
        "<b>Status</b> at {now} ({zone})\n"
        "<b>Sources</b>\n{sources}\n"
        "<b>Outbox</b>\n{targets}\n"
        "<b>Paused</b>: {paused}\n"
        "<b>Extra-edition queue</b>: {queue}"
    ),
    "status.source": "• <code>{name}</code>: last poll {last}, next {next}; {error}",
    "status.source_ok": "no error",
    "status.source_error": "last error ({failures} in a row): {error}",
    "status.no_sources": "• none watched",
    "status.never": "not yet",
    "status.target": "• {target}: {counts}",
    "status.paused_by": "⏸ paused by {who}",
    "status.held": "held until {until}",
    "status.quota": "quota {windows}",
    "status.quota_window": "{window} {remaining}/{limit} left (resets {reset})",
    "status.quota_unknown": "quota not reported yet (no post since start)",
    "status.none_paused": "none",
    "status.queue": "{length} waiting, next at {next}",
    "status.queue_empty": "empty",
    "admin.unknown_target": "Unknown target {name!r}. Targets: {known}.",
    "admin.one_target": "One target at most: /{command} [{known}].",
    "pause.done": "⏸ Paused: {targets}. Nothing more is posted there until /resume.",
    "pause.already": "Already paused: {targets}.",
    "resume.done": "▶️ Resumed: {targets}.",
    "resume.already": "Not paused: {targets}.",
    "admin.usage_id": "Give the outbox id: /{command} <id>, e.g. /{command} 12 (see /outbox).",
    "admin.no_row": "There is no outbox #{id}.",
    "admin.row_done": "Outbox #{id} ({target}): {outcome}.",
    "admin.retry_state": "Outbox #{id} is {state}: /retry takes a failed or in-doubt post.",
    "admin.retry_in_doubt": (
        "It was in doubt: if the first attempt did go out, it will be there twice."
    ),
    "admin.skip_state": "Outbox #{id} is {state}: /skip takes a queued, failed or in-doubt post.",
    "admin.skip_rest": "{count} later part(s) of its post go on without it.",
    "admin.usage_backfill": "Give the issue number: /backfill <number>, e.g. /backfill 106.",
    "admin.backfill_working": "Backfilling #{number}: fetching the repository…",
    "admin.backfill_failed": "Backfill of #{number} failed: {error}",
    "admin.backfill_decided": (
        "#{number}: nothing queued: its preview {preview_id} was already decided ({status})."
    ),
    "admin.backfill_cards": "#{number}: preview {preview_id} sent to {cards} editor chat(s).",
    "admin.backfill_cards_before": (
        "#{number}: preview {preview_id} was already sent; waiting for the editors."
    ),
    "admin.backfill_no_chat": (
        "#{number}: preview {preview_id} is waiting, but no editor chat could be reached."
    ),
    "admin.backfill_none_queued": "#{number}: nothing queued: all already queued or sent.",
    "admin.backfill_queued": "#{number}: {count} post(s) queued.",
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
    "command.forgetme": "Delete your name, username and notes from the bot",
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
        "This deletes what the bot keeps about you: your name, @username, notes and fields "
        "of your {count} link(s). The {pending} still waiting for review are withdrawn. "
        "Posts already on the channel stay as they are; your numeric id stays with your "
        "past links (limits and editors' decisions still count). This cannot be undone."
    ),
    "button.forget.ok": "🗑 Forget me",
    "forget.cancelled": "Nothing was deleted.",
    "forget.answered": "This request was answered already; send /forgetme to ask again.",
    "forget.done_short": "Done.",
    "forget.done": (
        "Done: the bot no longer keeps your name, @username, notes or fields; {withdrawn} "
        "link(s) waiting for review were withdrawn."
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
    "command.roundup": "Editors: preview the Sunday roundup of other newsletters",
    "roundup.off": "The roundup is switched off (WEEKLYBOT_ROUNDUP__ENABLED).",
    "roundup.fetching": "Reading {count} feeds…",
    "roundup.queued": "📰 The roundup of {date} is queued for the channel: {count} newsletters.",
    "roundup.nothing": (
        "📰 No roundup on {date}: no newsletter published anything new in the last {days} days."
        " Nothing is posted."
    ),
    "roundup.left_out": "Left out:",
    "roundup.problem.failed": "• {name}: the feed could not be read ({reason})",
    "roundup.problem.empty": "• {name}: the feed has no entries with a link",
    "roundup.problem.undated": "• {name}: no entry of the feed has a date",
    "roundup.problem.stale": (
        "• {name}: nothing new in the last {days} days (latest: {title}, {date})"
    ),
    "roundup.problem.posted": "• {name}: its latest issue, {title}, was in the roundup of {date}",
    "roundup.preview_head": (
        "📰 The roundup as it would be posted now ({start} to {end}); the next one goes out {next}."
    ),
    "roundup.preview_nothing": (
        "📰 Nothing new in the last {days} days: a roundup now would post nothing."
        " The next one is due {next}."
    ),
    "dry_run.mark": "🧪 DRY RUN (nothing is posted)\n",
    "dry_run.note_before": (
        "🧪 DRY RUN (nothing is posted): the next message belongs to the rehearsal."
    ),
    "dry_run.note_edited": (
        "🧪 DRY RUN (nothing is posted): the message this replies to was edited in the rehearsal."
    ),
    # the extra edition
    "command.extra": "Editors: /extra <url> [comment], a link for the extra edition",
    "command.queue": "Editors: the extra edition's queue, with its planned times",
    "button.queue_sub": "🕒 Queue",
    "extra.in_private": "Send /extra to me in a private chat.",
    "extra.usage": "Send /extra <url> [comment], e.g. /extra https://example.com/post A good read.",
    "extra.refused": "Not a link I can post ({rule}): {message}",
    "extra.seen.issue": "Already featured in issue #{number} ({date}); not added.",
    "extra.seen.submission": (
        "Already submitted by a reader (submission #{id}, {state}); not added."
    ),
    "extra.seen.extra": "Already in the extra edition (item #{id}, {state}); not added.",
    "extra.forward_not_editor": (
        "Forwarded links are for editors. To suggest a link, send /submit <url>."
    ),
    "extra.no_link": "No link in that message: forward one with a link, or send /extra <url>.",
    "extra.gone": "This item no longer exists.",
    "extra.already": "Already {state} by {who} at {when}.",
    "extra.posting": "Posting now.",
    "extra.queued": "Queued #{position}, planned {when}.",
    "extra.dropped": "Dropped.",
    "extra.send_edit": "Send the new text.",
    "extra.edit_prompt": (
        "Extra item #{id}: reply with the new title and comment as `title | comment`"
        " (or the title on the first line)."
    ),
    "extra.send_time": "Send the time.",
    "extra.time_prompt": (
        "Extra item #{id}: reply with its time in {zone}: HH:MM, tomorrow HH:MM,"
        " MM-DD HH:MM or YYYY-MM-DD HH:MM."
    ),
    "extra.moved": "Moved.",
    "extra.not_moved": "Not moved: it is already at that end, or no longer queued.",
    "extra.cancelled": "Cancelled: it will not be posted.",
    "extra.not_queued": "No longer queued: nothing changed.",
    "extra.edit_problem": "Not saved: {problem}. Send a shorter text.",
    "extra.edit_stale": "That item was decided meanwhile: nothing changed.",
    "extra.edit_saved": "Saved: the card of extra item #{id} shows the new post.",
    "extra.time_bad": (
        "Could not use “{given}” as a time ({reason}): send HH:MM, tomorrow HH:MM,"
        " MM-DD HH:MM or YYYY-MM-DD HH:MM, in {zone}."
    ),
    "extra.pinned": "Planned at {when}.",
    "extra.state.posted": "🚀 Posted now",
    "extra.state.queued": "🕒 Queued",
    "extra.state.dropped": "🗑 Dropped",
    "extra.state.cancelled": "✖ Cancelled",
    "extra.card.head": "🗞 <b>Extra edition</b> #{id}",
    "extra.card.url": "🔗 {url}",
    "extra.card.cannot": "<b>{platform}</b>: cannot post this link ({problem})",
    "extra.card.post": "<b>{platform}</b>:\n<blockquote>{post}</blockquote>",
    "extra.card.waiting": "⏳ Post now, queue it, edit it or drop it.",
    "extra.card.decided": "{decision} by {who} at {when}",
    "button.extra.now": "🚀 Post now",
    "button.extra.queue": "🕒 Queue",
    "button.extra.edit": "✏️ Edit",
    "button.extra.drop": "🗑 Drop",
    "extra.queue.empty": "The extra edition's queue is empty.",
    "extra.queue.head": (
        "🕒 <b>Extra edition</b>: {count} queued, at most {per_day} a day per target, in {zone}."
    ),
    "extra.queue.line": "{position}. {title}{source}\n   {url}\n   planned {when}",
    "extra.queue.line_pinned": (
        "{position}. {title}{source}\n   {url}\n   planned {when} (time given)"
    ),
    "extra.queue.from_reader": " (a reader's link)",
    "extra.queue.more": "… and {count} more (move the first ones to reach them).",
    "button.queue.up": "{position} ⬆",
    "button.queue.down": "{position} ⬇",
    "button.queue.at": "{position} 🕒",
    "button.queue.cancel": "{position} ✖",
}

TEMPLATES: Final[Mapping[TextKey, str]] = MappingProxyType(_EN)


class TextError(KeyError):
    """A text asked for with values its template does not have, or without one it has."""


@cache
def fields(key: TextKey) -> frozenset[str]:
    """The names a template's placeholders take (``{days:.0f}`` is ``days``)."""
    return frozenset(
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(TEMPLATES[key])
        if name
    )


def text(key: TextKey, **values: object) -> str:
    """The text under ``key`` with its fields filled; every field, and no other."""
    wanted = fields(key)
    if wanted != values.keys():
        missing = sorted(wanted - values.keys())
        extra = sorted(values.keys() - wanted)
        raise TextError(f"text {key!r}: missing {missing}, unexpected {extra}")
    return TEMPLATES[key].format(**values)
