"""Forward-only schema migrations: an ordered registry, applied one transaction each.

Each `Migration` is numbered; `migrate` applies the ones a database has not seen, in
order, each in its own `BEGIN IMMEDIATE` transaction together with its row in
`schema_version`. A migration that fails leaves no trace (its DDL is rolled back with
it: SQLite's DDL is transactional) and the version stays where it was. Never edit a
migration that has shipped; add the next number.

A database stamped with a version this code does not know was written by newer code;
`migrate` refuses it (`SchemaTooNewError`) rather than guess.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

from bot.domain.urls import item_dedupe_key
from data.db import Database, StorageError, Tx, When, to_ts
from data.search import SEARCH_DDL, build_index

MigrationStep = str | Callable[[Tx], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    step: MigrationStep  # SQL statements, or a coroutine for data changes


class SchemaTooNewError(StorageError):
    """The database was migrated by newer code than this one."""


_FOUNDATION = """
CREATE TABLE source_state (
    name TEXT PRIMARY KEY,
    cursor TEXT,                    -- revision/commit/last entry id, whatever the source uses
    etag TEXT,
    last_modified TEXT,
    last_success_at REAL,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    updated_at REAL NOT NULL
) STRICT;

CREATE TABLE users (
    user_id INTEGER PRIMARY KEY,    -- Telegram user id
    username TEXT,
    first_name TEXT,
    role TEXT NOT NULL DEFAULT 'reader' CHECK (role IN ('reader', 'editor')),
    blocked INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1)),
    first_seen_at REAL NOT NULL,
    last_seen_at REAL NOT NULL
) STRICT;
CREATE INDEX users_by_role ON users (role);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
) STRICT;
CREATE INDEX audit_log_by_subject ON audit_log (subject, id);

CREATE TABLE heartbeat (
    component TEXT PRIMARY KEY,
    beat_at REAL NOT NULL
) STRICT;

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL CHECK (json_valid(payload)),
    state TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'in_doubt', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    lease_owner TEXT,
    lease_expires_at REAL,
    last_error TEXT,
    remote_id TEXT,
    group_key TEXT,
    seq INTEGER,
    depends_on INTEGER REFERENCES outbox (id),
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    sent_at REAL,
    UNIQUE (idempotency_key, target),
    UNIQUE (target, group_key, seq),
    CHECK ((group_key IS NULL) = (seq IS NULL)),
    CHECK (state <> 'sending' OR (lease_owner IS NOT NULL AND lease_expires_at IS NOT NULL)),
    CHECK (state <> 'sent' OR sent_at IS NOT NULL)
) STRICT;
CREATE INDEX outbox_due ON outbox (target, state, next_attempt_at);
CREATE INDEX outbox_by_state ON outbox (state, target);
CREATE INDEX outbox_leases ON outbox (lease_expires_at) WHERE state = 'sending';

CREATE TABLE outbox_events (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    at REAL NOT NULL,
    from_state TEXT,                -- NULL when the row was created
    to_state TEXT NOT NULL,
    actor TEXT NOT NULL,            -- lease owner, 'reaper', or an editor
    detail TEXT
) STRICT;
CREATE INDEX outbox_events_by_row ON outbox_events (outbox_id, id);
"""

_ISSUES = """
CREATE TABLE issues (
    id INTEGER PRIMARY KEY,
    number INTEGER NOT NULL,
    lang TEXT NOT NULL,
    date TEXT,                      -- ISO date
    form TEXT NOT NULL,
    title TEXT NOT NULL,
    source_path TEXT,
    content_hash TEXT NOT NULL,     -- sha256 of `parsed` + items: what "changed" means
    raw TEXT,                       -- the Markdown as fetched, for re-parsing later
    parsed TEXT NOT NULL CHECK (json_valid(parsed)),  -- issue-level fields and sections
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    UNIQUE (number, lang)
) STRICT;

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    issue_id INTEGER NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    idx INTEGER NOT NULL,
    number_as_written TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    lang_tag TEXT,
    description TEXT NOT NULL,
    description_md TEXT NOT NULL,
    stars TEXT NOT NULL CHECK (json_valid(stars)),
    stars_as_written TEXT NOT NULL CHECK (json_valid(stars_as_written)),
    credit TEXT,
    flags TEXT NOT NULL CHECK (json_valid(flags)),
    images TEXT NOT NULL CHECK (json_valid(images)),
    sub_links TEXT NOT NULL CHECK (json_valid(sub_links)),
    description_links TEXT NOT NULL CHECK (json_valid(description_links)),
    orphan_text TEXT NOT NULL,
    UNIQUE (issue_id, kind, idx)
) STRICT;
"""

_PUBLICATION = """
CREATE TABLE previews (
    id INTEGER PRIMARY KEY,
    issue_number INTEGER NOT NULL UNIQUE,   -- one preview per issue: a re-delivery adds none
    langs TEXT NOT NULL CHECK (json_valid(langs)),    -- {"telegram": "zh", "x": "en"}
    plan TEXT NOT NULL CHECK (json_valid(plan)),      -- the posts, formatted, not yet timed
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'published', 'scheduled', 'skipped')),
    edited TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(edited)),  -- target -> digest text
    edited_by TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(edited_by)),
    decided_by TEXT,
    decided_at REAL,
    cards TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(cards)),  -- [[chat_id, message_id]]
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    CHECK ((status = 'pending') = (decided_at IS NULL))
) STRICT;

-- An editor pressed [Edit Telegram]/[Edit X]: their next text in that chat is the text.
CREATE TABLE preview_edits (
    chat_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    preview_id INTEGER NOT NULL REFERENCES previews (id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    started_at REAL NOT NULL,
    PRIMARY KEY (chat_id, user_id)
) STRICT;

-- Editor alarms (silence, failing sources): raised once, cleared once.
CREATE TABLE alarms (
    name TEXT PRIMARY KEY,
    raised INTEGER NOT NULL CHECK (raised IN (0, 1)),
    changed_at REAL NOT NULL,
    detail TEXT
) STRICT;
"""

# A language whose file the parser refused: the preview card shows it with the reason.
_PREVIEW_REFUSED = """
ALTER TABLE previews ADD COLUMN refused TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(refused));
"""

# Delivery state that must survive a restart: a platform's "wait until" per target,
# whether a claimed send began, whether the editors got a card, a part skipped on purpose.
_TARGET_HOLDS = """
CREATE TABLE target_holds (
    target TEXT PRIMARY KEY,
    until REAL NOT NULL,            -- wall-clock seconds: no send starts before
    updated_at REAL NOT NULL
) STRICT;
ALTER TABLE outbox ADD COLUMN started_at REAL;   -- the send of the current lease began
ALTER TABLE outbox ADD COLUMN noticed_at REAL;   -- the editors got a card for this state
ALTER TABLE outbox ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0 CHECK (skipped IN (0, 1));
-- A lease taken by older code may have begun its send: count it as begun.
UPDATE outbox SET started_at = updated_at WHERE state = 'sending';
-- Cards of older code were sent when the row got its state.
UPDATE outbox SET noticed_at = updated_at WHERE state IN ('failed', 'in_doubt');
"""

# Who is an editor is a setting (`telegram.editor_ids`), read on every press; the
# role column was never read, so it goes rather than become a second truth. SQLite
# drops a column since 3.35 (Debian 12 ships 3.40), once no index names it.
_NO_USER_ROLE = """
DROP INDEX users_by_role;
ALTER TABLE users DROP COLUMN role;
"""

# Readers' links (/submit): one row each, its review state a compare-and-set; banned
# readers; and the dedupe key of every stored item, so "already featured in issue #N"
# is one indexed lookup. `IssueStore.upsert` writes the key of each new item; the step
# below computes it for the items already stored (SQL cannot: it is `item_dedupe_key`).
_SUBMISSIONS_DDL = """
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,           -- the submitter's Telegram user id
    display_name TEXT NOT NULL,
    username TEXT,                      -- without the @
    chat_id INTEGER NOT NULL,           -- where the submitter is told the outcome
    original_url TEXT NOT NULL,         -- as the reader wrote it
    canonical_url TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    for_whom TEXT,                      -- `for: …`
    solves TEXT,                        -- `solves: …`
    level TEXT,                         -- `level: …`
    credit INTEGER NOT NULL DEFAULT 1 CHECK (credit IN (0, 1)),  -- "via <name>" in posts
    preview_title TEXT,
    preview_description TEXT,
    preview_error TEXT,
    previewed_at REAL,
    edits TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(edits)),  -- target -> {title, comment}
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'published', 'rejected', 'withdrawn', 'expired')),
    mode TEXT CHECK (mode IN ('publish', 'draft')),  -- how it was approved
    decided_by TEXT,
    decided_at REAL,
    reason TEXT,                        -- why it was rejected
    cards TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(cards)),  -- [[chat_id, message_id]]
    told_at REAL,                       -- the submitter was told the outcome
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    CHECK ((state = 'pending') = (decided_at IS NULL)),
    CHECK ((state IN ('approved', 'published')) = (mode IS NOT NULL))
) STRICT;
CREATE INDEX submissions_by_key ON submissions (dedupe_key, state);
CREATE INDEX submissions_by_user ON submissions (user_id, created_at);
CREATE INDEX submissions_by_state ON submissions (state, created_at);

CREATE TABLE banned_users (
    user_id INTEGER PRIMARY KEY,
    banned_by TEXT NOT NULL,
    banned_at REAL NOT NULL,
    reason TEXT
) STRICT;

ALTER TABLE items ADD COLUMN dedupe_key TEXT;
CREATE INDEX items_by_dedupe_key ON items (dedupe_key) WHERE dedupe_key IS NOT NULL;
"""


async def _submissions(tx: Tx) -> None:
    for statement in split_statements(_SUBMISSIONS_DDL):
        await tx.execute(statement)
    for row in await tx.fetchall("SELECT id, url FROM items WHERE url IS NOT NULL"):
        key = item_dedupe_key(row["url"])
        if key is not None:
            await tx.execute("UPDATE items SET dedupe_key = ? WHERE id = ?", (key, row["id"]))


# A refused or suspicious issue file is told to the editors once per file revision
# (path, git blob id): which chats were told, and when all of them were.
_FILE_NOTICES = """
CREATE TABLE file_notices (
    path TEXT NOT NULL,
    blob TEXT NOT NULL,             -- git's object id of the file revision
    refused INTEGER NOT NULL CHECK (refused IN (0, 1)),
    reasons TEXT NOT NULL CHECK (json_valid(reasons)),
    told TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(told)),  -- chat ids told so far
    told_at REAL,                   -- every editor chat was told: never again
    created_at REAL NOT NULL,
    PRIMARY KEY (path, blob)
) STRICT;
"""

# Submitters' own tools (/credit, /forgetme): how a reader wants to be credited is theirs,
# kept per user with the numeric id (`users.credit`, their name as last seen beside it);
# a pending submission mirrors it (`submissions.credit_as`, set with it in one
# transaction), a decided one keeps what its posts used. The old on/off `credit` becomes
# `credit_as` ('name' or 'anonymous'), and the latest submission's choice becomes the
# reader's. `forgotten_at` marks the rows /forgetme emptied; `forget_requests` is the
# confirmation a [Forget me] press is a compare-and-set on (a double press acts once).
_SUBMITTERS_DDL = """
ALTER TABLE users ADD COLUMN display_name TEXT;
ALTER TABLE users ADD COLUMN credit TEXT NOT NULL DEFAULT 'name'
    CHECK (credit IN ('username', 'name', 'anonymous'));
ALTER TABLE submissions ADD COLUMN credit_as TEXT NOT NULL DEFAULT 'name'
    CHECK (credit_as IN ('username', 'name', 'anonymous'));
UPDATE submissions SET credit_as = CASE credit WHEN 0 THEN 'anonymous' ELSE 'name' END;
ALTER TABLE submissions DROP COLUMN credit;
ALTER TABLE submissions ADD COLUMN forgotten_at REAL;
INSERT INTO users (user_id, username, display_name, credit, first_seen_at, last_seen_at)
    SELECT s.user_id, s.username, s.display_name, s.credit_as, s.created_at, s.created_at
    FROM submissions s
    WHERE s.id = (SELECT max(id) FROM submissions t WHERE t.user_id = s.user_id)
    ON CONFLICT (user_id) DO UPDATE SET credit = excluded.credit,
        display_name = coalesce(users.display_name, excluded.display_name);
CREATE TABLE forget_requests (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'asked' CHECK (state IN ('asked', 'done', 'cancelled')),
    asked_at REAL NOT NULL,
    decided_at REAL,
    CHECK ((state = 'asked') = (decided_at IS NULL))
) STRICT;
CREATE INDEX forget_requests_by_user ON forget_requests (user_id, id);
"""

# A target an editor paused (`/pause`): its worker claims nothing until `/resume`. A row,
# not a setting, so a pause survives a restart; `outbox.claim_next` reads it in the claim.
_TARGET_PAUSES = """
CREATE TABLE target_pauses (
    target TEXT PRIMARY KEY,
    paused_by TEXT NOT NULL,
    paused_at REAL NOT NULL
) STRICT;
"""

# The extra edition's queue (issue 13): an editor's link or a queued submission, in
# order. Its outbox rows (`extra:<id>`, or the submission's `submission:<id>`) hold the
# planned times; this table holds what the outbox cannot: the draft on the card, the
# order, and a time an editor gave.
_EXTRA_QUEUE = """
CREATE TABLE extra_queue (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL CHECK (source IN ('link', 'submission')),
    submission_id INTEGER UNIQUE REFERENCES submissions (id),
    outbox_key TEXT NOT NULL UNIQUE,    -- the idempotency key of its rows, every target
    original_url TEXT NOT NULL,
    canonical_url TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    title TEXT,                         -- the page's or the editor's; NULL: the host
    comment TEXT,
    state TEXT NOT NULL DEFAULT 'draft'
        CHECK (state IN ('draft', 'queued', 'posted', 'dropped', 'cancelled')),
    position INTEGER,                   -- order among the queued, smallest first
    pinned_at REAL,                     -- a time an editor gave; NULL: paced
    created_by TEXT NOT NULL,
    decided_by TEXT,
    decided_at REAL,
    cards TEXT NOT NULL DEFAULT '[]',   -- [[chat id, message id], ...] of its card
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) STRICT;
CREATE INDEX extra_queue_dedupe ON extra_queue (dedupe_key);
CREATE INDEX extra_queue_queued ON extra_queue (state, position);
"""

# The Sunday roundup: one row per slot that ran (posted or empty, never run twice), and
# every newsletter issue a roundup listed, so none is listed twice (`data.roundups`).
_ROUNDUPS = """
CREATE TABLE roundups (
    date TEXT PRIMARY KEY,          -- the slot's local date, YYYY-MM-DD
    outcome TEXT NOT NULL CHECK (outcome IN ('posted', 'empty')),
    entries INTEGER NOT NULL CHECK (entries >= 0),
    created_at REAL NOT NULL
) STRICT;

CREATE TABLE roundup_entries (
    newsletter TEXT NOT NULL,
    issue_key TEXT NOT NULL,        -- "#153", else the link's dedupe key
    roundup_date TEXT NOT NULL REFERENCES roundups (date),
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (newsletter, issue_key)
) STRICT;
"""

# The language each user is spoken to in: the one their Telegram client sent last
# (`chosen` 0), or the one they picked with /lang (`chosen` 1, kept until the next /lang).
# A notice sent without an update (a publication) reads it.
_USER_LANGS = """
CREATE TABLE user_langs (
    user_id INTEGER PRIMARY KEY,
    lang TEXT NOT NULL CHECK (lang IN ('zh', 'en')),
    chosen INTEGER NOT NULL CHECK (chosen IN (0, 1)),
    set_at REAL NOT NULL
) STRICT;
"""


async def _search_index(tx: Tx) -> None:
    """The FTS5 index over the items (data.search), filled from the items stored so far."""
    for statement in split_statements(SEARCH_DDL):
        await tx.execute(statement)
    await build_index(tx)


# Keyword alerts (`/follow`): a reader's words, each once. A reader who blocked the bot
# or asked to be forgotten has theirs deleted (`data.alerts`, `data.readers`).
_FOLLOWS = """
CREATE TABLE follows (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL,
    word TEXT NOT NULL CHECK (length(word) BETWEEN 1 AND 200),
    created_at REAL NOT NULL,
    UNIQUE (user_id, word)
) STRICT;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "foundation", _FOUNDATION),
    Migration(2, "issues and items", _ISSUES),
    Migration(3, "previews, pending edits and alarms", _PUBLICATION),
    Migration(4, "previews remember refused languages", _PREVIEW_REFUSED),
    Migration(5, "target holds", _TARGET_HOLDS),
    Migration(6, "users lose the unused role (editors are a setting)", _NO_USER_ROLE),
    Migration(7, "reader submissions, banned users, item dedupe keys", _submissions),
    Migration(8, "file notices told once per revision", _FILE_NOTICES),
    Migration(9, "submitters: credit per reader, forget requests", _SUBMITTERS_DDL),
    Migration(10, "paused targets", _TARGET_PAUSES),
    Migration(11, "the extra-edition queue", _EXTRA_QUEUE),
    Migration(12, "roundups and the newsletter issues they listed", _ROUNDUPS),
    Migration(13, "the language each user is spoken to in", _USER_LANGS),
    Migration(14, "the archive's search index and paged queries", _search_index),
    Migration(15, "keyword alerts: the words readers follow", _FOLLOWS),
)

_SCHEMA_VERSION = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at REAL NOT NULL
) STRICT
"""


def split_statements(script: str) -> Iterator[str]:
    """Cut a script into single statements, honouring strings, comments and triggers.

    Needed because `sqlite3.executescript` commits any open transaction first, which
    would break "one transaction per migration".
    """
    start = 0
    for end, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : end + 1]):
            statement = script[start : end + 1].strip()
            if statement != ";":
                yield statement
            start = end + 1
    rest = script[start:].strip()
    if rest and any(
        not line.lstrip().startswith("--") for line in rest.splitlines() if line.strip()
    ):
        raise ValueError(f"incomplete SQL statement at the end of the script: {rest[:60]!r}")


def _check_registry(migrations: Sequence[Migration]) -> None:
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(f"migration versions must be 1, 2, 3… in order; got {versions}")


async def current_version(db: Database) -> int:
    """Return the highest applied migration version (0 for an empty database)."""
    async with db.transaction() as tx:
        await tx.execute(_SCHEMA_VERSION)
        row = await tx.fetchone("SELECT coalesce(max(version), 0) AS v FROM schema_version")
    return int(row["v"]) if row else 0


async def pending(db: Database, migrations: Sequence[Migration] = MIGRATIONS) -> list[Migration]:
    """List the migrations not yet applied, in the order `migrate` would apply them."""
    _check_registry(migrations)
    version = await current_version(db)
    _refuse_newer(version, migrations)
    return [m for m in migrations if m.version > version]


def _refuse_newer(version: int, migrations: Sequence[Migration]) -> None:
    known = migrations[-1].version if migrations else 0
    if version > known:
        raise SchemaTooNewError(
            f"database schema is at version {version}, this code knows up to {known}: "
            "run the newer weeklybot, or restore a backup made by this version"
        )


async def migrate(
    db: Database, migrations: Sequence[Migration] = MIGRATIONS, *, now: When
) -> list[int]:
    """Apply pending migrations in order; return the versions applied (empty: no-op).

    Each migration re-reads the version inside its own write transaction, so two
    processes starting at once do not apply the same migration twice.

    Raises:
        SchemaTooNewError: the database is ahead of `migrations`.
        sqlite3.Error: a migration failed; it was rolled back, earlier ones stay.
    """
    _check_registry(migrations)
    applied: list[int] = []
    for migration in await pending(db, migrations):
        async with db.transaction() as tx:
            row = await tx.fetchone("SELECT coalesce(max(version), 0) AS v FROM schema_version")
            version = int(row["v"]) if row else 0
            _refuse_newer(version, migrations)
            if version >= migration.version:
                continue
            if isinstance(migration.step, str):
                for statement in split_statements(migration.step):
                    await tx.execute(statement)
            else:
                await migration.step(tx)
            await tx.execute(
                "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_ts(now)),
            )
        applied.append(migration.version)
    return applied
