"""The GitHub target: one issue per approved link, exactly once, through the real httpx
client and the loopback fake GitHub.

What is proven: an approval files one issue with the marker even when the fake drops
the connection after filing it (the settler finds it; no second issue) or before (the
settler finds nothing and it is filed once); a secondary limit holds the target for
`retry-after` (a minute without it) and a spent quota until `x-ratelimit-reset`, on a
clock the test moves; a 422 and a 401 are permanent and the editors get the card;
the token is never in a log line, an error or a card. And the fake is as strict as
GitHub: the token, the User-Agent, the body's schema and GitHub's error bodies, the
labels, the rate-limit headers.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import telegram

from bot.config import (
    ConfigError,
    GitHubSettings,
    SubmissionsSettings,
    load_settings,
    settings_from_values,
)
from bot.delivery.workers import DeliveryWorker
from bot.editors.outbox_cards import EditorNotices
from bot.fakes.github import CREATE_ISSUE, LIST_ISSUES, FakeGitHub, FaultKind, GitHubLimits
from bot.fakes.github_model import GET_REPOSITORY
from bot.fakes.telegram import FakeTelegram
from bot.ops.start_checks import check_github
from bot.platforms import GITHUB, PLATFORMS, TELEGRAM, NoIssuePosts, X
from bot.submissions.intake import (
    SubmissionService,
    Submitter,
    link_post,
    plan_submission_posts,
    targets_of,
)
from bot.submissions.rules import Accepted
from bot.weekly.publication import routes
from data.outbox import OutboxRow
from data.store import Store
from data.submissions import Fields, Submission, SubmissionStore, submission_key
from publishers.base import KnownPosts
from publishers.errors import MaybeSent, Rejected, RetryLater
from publishers.format_github import format_submission_github, marker_for
from publishers.format_submission import SubmittedLinkPost
from publishers.github import GitHubAPI, GitHubPublisher, classify_transport
from publishers.github_probe import GitHubProbe
from publishers.limits import GITHUB_TITLE_MAX
from publishers.pacing import GitHubPacer
from publishers.posts import GitHubIssue
from tests.conftest import EDITOR_ID
from tests.delivery_support import (
    FAST_RETRY,
    ShiftedClock,
    cards,
    channel_fake,
    opened_store,
    step_until_idle,
    telegram_bot,
)

TOKEN = "github_pat_11AAAAAAA0fakefakefakefake_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
REPO = "chinesehuazhou/python-weekly"
LABEL = "submission"


def submitted(number: int, **changes: Any) -> SubmittedLinkPost:
    values: dict[str, Any] = {
        "url": f"https://blog.example.org/post-{number}",
        "title": f"A fine post {number}",
        "comment": "What the page says of itself.",
        "credit": "Ada Lovelace",
        "key": submission_key(number),
        "note": "Worth a read.",
        "fields": (("Level", "intermediate"),),
    }
    return SubmittedLinkPost(**{**values, **changes})


def payload(number: int, **changes: Any) -> dict[str, Any]:
    return format_submission_github(submitted(number, **changes)).to_payload()


@pytest.fixture
async def gh() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(token=TOKEN, repo=REPO) as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    async with opened_store(tmp_path / "weeklybot.db") as opened:
        yield opened


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with channel_fake() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram_bot(tg) as real_bot:
        yield real_bot


def api_for(gh: FakeGitHub, http: httpx.AsyncClient, token: str = TOKEN) -> GitHubAPI:
    return GitHubAPI(http, base_url=gh.base_url, repo=REPO, token=token)


def worker(
    store: Store,
    gh: FakeGitHub,
    http: httpx.AsyncClient,
    bot: telegram.Bot,
    *,
    clock: ShiftedClock | None = None,
    token: str = TOKEN,
) -> DeliveryWorker:
    """A GitHub worker: its pacer, publisher, settler and itself on one clock."""
    now = clock or ShiftedClock()
    api = api_for(gh, http, token)
    pacer = GitHubPacer(min_spacing=0, clock=now)
    return DeliveryWorker(
        outbox=store.outbox,
        publisher=GitHubPublisher(api, label=LABEL, pacer=pacer, clock=now),
        pacer=pacer,
        notices=EditorNotices(bot, [EDITOR_ID], store.outbox),
        settler=GitHubProbe(api, quiet_seconds=0, clock=now),
        retry=FAST_RETRY,
        idle_poll=0.05,
        clock=now,
        rng=random.Random(1),
    )


async def queue(store: Store, number: int, **changes: Any) -> int:
    row_id = await store.outbox.enqueue(
        idempotency_key=submission_key(number),
        target=GITHUB,
        kind="submission",
        payload=payload(number, **changes),
        now=time.time(),
    )
    assert row_id is not None
    return row_id


async def row(store: Store, row_id: int) -> OutboxRow:
    found = await store.outbox.get(row_id)
    assert found is not None
    return found


# ---- the formatter: the marker, the reader's text shown and never obeyed ------------------


def test_the_issue_holds_the_link_note_fields_credit_and_the_marker_last() -> None:
    issue = format_submission_github(submitted(7))
    assert issue.title == "A fine post 7"
    assert issue.marker == "<!-- weeklybot:submission:7 -->"
    lines = issue.body.split("\n")
    assert lines[0] == "https://blog.example.org/post-7"
    assert "> What the page says of itself." in lines
    assert "Worth a read." in lines
    assert "- **Level:** intermediate" in lines
    assert "_Sent with /submit to the Telegram bot, via Ada Lovelace._" in lines
    assert lines[-1] == issue.marker
    assert GitHubIssue.from_payload(issue.to_payload()) == issue
    uncredited = format_submission_github(submitted(7, credit=None)).body
    assert "_Sent with /submit to the Telegram bot._" in uncredited.split("\n")


def test_a_readers_text_cannot_forge_a_marker_mention_anyone_or_inject_html() -> None:
    forged = "<!-- weeklybot:submission:99 --> ping @guido <img src=x>"
    issue = format_submission_github(submitted(8, note=forged, comment=forged, credit="@ada"))
    assert marker_for("submission:99") not in issue.body
    assert issue.body.count("<!--") == 1  # ours, last
    assert "@guido" not in issue.body
    assert "@\u200bguido" in issue.body
    assert "<img" not in issue.body
    assert "&lt;img src=x&gt;" in issue.body
    assert "via ada" in issue.body  # the credit rule of the posts: its @ dropped


def test_an_editors_title_is_used_and_one_over_256_is_refused_before_saving() -> None:
    post = submitted(9)
    assert format_submission_github(post, title="Edited").title == "Edited"
    assert len(format_submission_github(submitted(9, title="t" * 400)).title) <= GITHUB_TITLE_MAX
    problem = PLATFORMS[GITHUB].submission_problem
    assert problem is not None
    assert problem(post, "x" * 257, None) == "the GitHub title is 257 characters; at most 256 fit"
    assert problem(post, "fine", None) is None
    with pytest.raises(ValueError, match="outbox key"):
        format_submission_github(submitted(9, key=""))


# ---- the registry: on with its settings, readers' links only ------------------------------


def github_settings(tg_token: str = "123456:" + "A" * 30, **github: Any) -> Any:
    return settings_from_values(
        {
            "telegram": {"token": tg_token, "channel_id": -1001},
            "github": {"repo": REPO, "token": TOKEN, **github},
        }
    )


def test_github_is_a_target_of_links_only_and_only_when_configured() -> None:
    on = github_settings()
    off = settings_from_values({"telegram": {"token": "123456:" + "A" * 30, "channel_id": -1001}})
    assert targets_of(on) == (TELEGRAM, GITHUB)
    assert targets_of(off) == (TELEGRAM,)
    assert [r.target for r in routes(on, on.publishing)] == [TELEGRAM]  # no issue posts
    with pytest.raises(NoIssuePosts):
        PLATFORMS[GITHUB].validate("a digest")
    assert X in PLATFORMS
    assert PLATFORMS.names == (TELEGRAM, X, GITHUB)


def a_submission(**changes: Any) -> Submission:
    values: dict[str, Any] = {
        "id": 41,
        "user_id": 1002,
        "display_name": "Ada Lovelace",
        "username": "ada",
        "chat_id": 1002,
        "original_url": "https://blog.example.org/x",
        "canonical_url": "https://blog.example.org/x",
        "dedupe_key": "blog.example.org/x",
        "note": "Read it.",
        "fields": Fields(for_whom="data folks", solves="slow CSV", level="beginner"),
        "credit_as": "name",
        "preview_title": "X marks",
        "preview_description": None,
        "preview_error": None,
        "previewed_at": None,
        "edits": {},
        "state": "pending",
        "mode": None,
        "decided_by": None,
        "decided_at": None,
        "reason": None,
        "cards": (),
        "told_at": None,
        "created_at": 0.0,
        "updated_at": 0.0,
    }
    return Submission(**{**values, **changes})


def test_an_approval_plans_one_github_row_keyed_like_the_others() -> None:
    rows = plan_submission_posts(a_submission(), (TELEGRAM, GITHUB))
    assert [(r.target, r.idempotency_key) for r in rows] == [
        (TELEGRAM, "submission:41"),
        (GITHUB, "submission:41"),
    ]
    issue = GitHubIssue.from_payload(rows[1].payload)
    assert issue.marker == "<!-- weeklybot:submission:41 -->"
    assert "- **For:** data folks" in issue.body
    assert "- **Solves:** slow CSV" in issue.body
    assert "via Ada Lovelace" in issue.body
    assert link_post(a_submission(credit_as="anonymous")).credit is None


def test_github_settings_need_repo_and_token_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not GitHubSettings().enabled
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__TOKEN", "123456:" + "A" * 30)
    monkeypatch.setenv("WEEKLYBOT_TELEGRAM__CHANNEL_ID", "-1001")
    monkeypatch.setenv("WEEKLYBOT_GITHUB__TOKEN", TOKEN)
    with pytest.raises(ConfigError) as caught:
        load_settings(dotenv=tmp_path / "none.env")
    rendered = caught.value.render()
    assert "GitHub needs both repo and token, or neither; missing: repo" in rendered
    assert TOKEN not in rendered
    monkeypatch.setenv("WEEKLYBOT_GITHUB__REPO", "not a repo")
    with pytest.raises(ConfigError, match="is not owner/name"):
        load_settings(dotenv=tmp_path / "none.env")
    monkeypatch.setenv("WEEKLYBOT_GITHUB__REPO", f"https://github.com/{REPO}.git")
    settings = load_settings(dotenv=tmp_path / "none.env")
    assert settings.github.repo == REPO
    assert settings.github.enabled
    assert settings.github.api_base_url == "https://api.github.com"


# ---- exactly once through the outbox ------------------------------------------------------


async def test_a_drop_after_the_issue_is_filed_is_settled_by_its_marker_no_second_issue(
    store: Store, gh: FakeGitHub, http: httpx.AsyncClient, bot: telegram.Bot, tg: FakeTelegram
) -> None:
    gh.add_issue("Someone else's issue", "no marker here")
    gh.add_issue("A pull request", marker_for("submission:1"), pull_request=True)
    row_id = await queue(store, 1)
    gh.inject(FaultKind.DROP_AFTER, endpoint=CREATE_ISSUE)
    assert await step_until_idle(worker(store, gh, http, bot)) == 1
    filed = [i for i in gh.issues() if not i.pull_request and i.user == "weeklybot"]
    assert [i.title for i in filed] == ["A fine post 1"]
    assert filed[0].labels == [LABEL]
    done = await row(store, row_id)
    assert (done.state, done.remote_id) == ("sent", f"https://github.com/{REPO}/issues/3")
    assert len(gh.calls(CREATE_ISSUE)) == 1
    assert len(gh.calls(LIST_ISSUES)) == 1
    assert cards(tg, EDITOR_ID) == []  # settled without the editors


async def test_a_drop_before_anything_was_filed_is_filed_once_after_the_check(
    store: Store, gh: FakeGitHub, http: httpx.AsyncClient, bot: telegram.Bot
) -> None:
    row_id = await queue(store, 2)
    gh.inject(FaultKind.DROP_BEFORE, endpoint=CREATE_ISSUE)
    await step_until_idle(worker(store, gh, http, bot))
    assert [i.title for i in gh.issues()] == ["A fine post 2"]
    assert (await row(store, row_id)).state == "sent"
    assert [c.status for c in gh.calls(CREATE_ISSUE)] == [None, 201]


async def test_the_settler_reads_every_page_and_finds_the_oldest_of_a_double(
    gh: FakeGitHub, http: httpx.AsyncClient
) -> None:
    api = api_for(gh, http)
    started = gh.now()
    issue = format_submission_github(submitted(3))
    probe = GitHubProbe(api, quiet_seconds=0)
    for n in range(150):
        gh.add_issue(f"noise {n}", "")
    assert (await probe.settle(issue.to_payload(), KnownPosts(claimed_at=started))).verdict == (
        "not_sent"
    )
    first = gh.repo.add(issue.title, issue.body, [], now=gh.now())
    for n in range(120):
        gh.add_issue(f"more noise {n}", "")
    second = gh.repo.add(issue.title, issue.body, [], now=gh.now())
    found = await probe.settle(issue.to_payload(), KnownPosts(claimed_at=started))
    assert (found.verdict, found.remote_id) == ("sent", gh.repo.html_url(first.number))
    assert f"issues [{second.number}] hold it too" in found.reason
    short = await GitHubProbe(api, quiet_seconds=0, max_pages=1).settle(
        issue.to_payload(), KnownPosts(claimed_at=started)
    )
    assert short.verdict == "unknown"


# ---- rate limits: the target is held as GitHub says ---------------------------------------


async def test_a_secondary_limit_holds_the_target_for_retry_after(
    store: Store, gh: FakeGitHub, http: httpx.AsyncClient, bot: telegram.Bot
) -> None:
    clock = ShiftedClock()
    w = worker(store, gh, http, bot, clock=clock)
    row_id = await queue(store, 4)
    gh.inject(FaultKind.SECONDARY_LIMIT, endpoint=CREATE_ISSUE, retry_after=30)
    before = clock()
    assert await w.step()
    limited = await row(store, row_id)
    assert limited.state == "queued"
    assert "secondary rate limit" in (limited.last_error or "")
    hold = await store.outbox.hold_of(GITHUB)
    assert before + 30 <= hold <= clock() + 31
    clock.offset += 29
    assert not await w.step()  # still held: nothing was sent
    assert gh.issues() == []
    clock.offset += 2
    assert await step_until_idle(w) == 1
    assert [i.title for i in gh.issues()] == ["A fine post 4"]


async def test_a_secondary_limit_without_retry_after_waits_a_minute_then_longer(
    gh: FakeGitHub, http: httpx.AsyncClient
) -> None:
    publisher = GitHubPublisher(api_for(gh, http))
    gh.inject(FaultKind.SECONDARY_LIMIT, endpoint=CREATE_ISSUE, times=2)
    waits = []
    for _ in range(2):
        with pytest.raises(RetryLater) as caught:
            await publisher.publish(payload(5))
        waits.append(caught.value.retry_after)
    assert waits == [60.0, 120.0]  # at least a minute, then exponentially longer
    await publisher.publish(payload(5))
    assert len(gh.issues()) == 1


async def test_a_spent_primary_quota_holds_the_target_until_its_reset(
    store: Store, http: httpx.AsyncClient, bot: telegram.Bot
) -> None:
    clock = ShiftedClock()
    limits = GitHubLimits(core_per_hour=3, limited_status=429)
    async with FakeGitHub(token=TOKEN, repo=REPO, limits=limits, clock=clock) as gh:
        w = worker(store, gh, http, bot, clock=clock)
        ids = [await queue(store, n) for n in (10, 11, 12)]
        assert await step_until_idle(w) == 3  # the third leaves remaining = 0: held at once
        created = gh.calls(CREATE_ISSUE)
        assert [c.status for c in created] == [201, 201, 201]
        hold = await store.outbox.hold_of(GITHUB)
        reset = gh._quota.reset_at(gh.now())
        assert hold == reset + 1
        late = await queue(store, 13)
        assert not await w.step()
        clock.offset += hold - clock() + 0.5
        assert await step_until_idle(w) == 1
        assert [(await row(store, i)).state for i in [*ids, late]] == ["sent"] * 4


async def test_a_429_with_a_spent_quota_waits_for_x_ratelimit_reset(
    gh: FakeGitHub, http: httpx.AsyncClient
) -> None:
    gh.inject(FaultKind.PRIMARY_LIMIT, endpoint=CREATE_ISSUE)
    now = time.time()
    with pytest.raises(RetryLater, match="primary rate limit") as caught:
        await GitHubPublisher(api_for(gh, http), clock=lambda: now).publish(payload(6))
    assert caught.value.retry_after == gh._quota.reset_at(gh.now()) - now + 1


# ---- permanent refusals reach the editors, the token never does ---------------------------


async def test_a_422_is_permanent_and_the_editors_get_its_card(
    store: Store, gh: FakeGitHub, http: httpx.AsyncClient, bot: telegram.Bot, tg: FakeTelegram
) -> None:
    row_id = await queue(store, 20)
    gh.inject(FaultKind.STATUS, endpoint=CREATE_ISSUE, status=422)
    await step_until_idle(worker(store, gh, http, bot))
    failed = await row(store, row_id)
    assert failed.state == "failed"
    assert failed.attempts == 1
    assert failed.last_error == (
        "GitHub 422: GitHub refused the issue's fields (Validation Failed; labels invalid)"
    )
    (card,) = cards(tg, EDITOR_ID)
    assert "GitHub 422" in (card.text or "")
    assert "A fine post 20" in (card.text or "")
    assert gh.issues() == []


async def test_the_fake_refuses_an_issue_without_a_title_as_github_does(
    gh: FakeGitHub, http: httpx.AsyncClient
) -> None:
    publisher = GitHubPublisher(api_for(gh, http))
    broken = {**payload(21), "title": ""}
    with pytest.raises(Rejected, match=r"GitHub 422: .*\(Validation Failed; title missing_field\)"):
        await publisher.publish(broken)
    answer = await api_for(gh, http).create_issue("t" * 257, "", [])
    assert answer.status == 422
    assert answer.body["errors"] == [
        {
            "resource": "Issue",
            "code": "custom",
            "field": "title",
            "message": "title is too long (maximum is 256 characters)",
        }
    ]
    assert answer.body["documentation_url"].startswith("https://docs.github.com/rest/")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, Rejected),
        (403, Rejected),
        (404, Rejected),
        (409, Rejected),
        (410, Rejected),
        (500, RetryLater),
        (503, RetryLater),
        (502, MaybeSent),
        (504, MaybeSent),
    ],
)
async def test_each_status_is_sorted_by_what_it_means(
    gh: FakeGitHub, http: httpx.AsyncClient, status: int, expected: type[Exception]
) -> None:
    gh.inject(FaultKind.STATUS, endpoint=CREATE_ISSUE, status=status)
    with pytest.raises(expected):
        await GitHubPublisher(api_for(gh, http)).publish(payload(22))
    assert gh.issues() == []


async def test_a_bad_token_is_permanent_and_never_shown_or_logged(
    store: Store,
    gh: FakeGitHub,
    http: httpx.AsyncClient,
    bot: telegram.Bot,
    tg: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = TOKEN[:-4] + "nope"
    caplog.set_level(logging.DEBUG)
    row_id = await queue(store, 30)
    await step_until_idle(worker(store, gh, http, bot, token=wrong))
    failed = await row(store, row_id)
    assert failed.state == "failed"
    assert failed.last_error is not None
    assert failed.last_error.startswith("GitHub 401: the token")
    (card,) = cards(tg, EDITOR_ID)
    shown = [caplog.text, failed.last_error, card.text or "", repr(api_for(gh, http, wrong))]
    shown += [str(c) for c in gh.calls()]
    for text in shown:
        assert wrong not in text
        assert TOKEN not in text
        assert wrong[12:40] not in text
    assert gh.calls(CREATE_ISSUE)[0].headers["authorization"] == "Bearer ***"


# ---- the fake is as strict as GitHub -------------------------------------------------------


async def test_the_fake_checks_the_token_user_agent_version_and_repository(
    gh: FakeGitHub, http: httpx.AsyncClient
) -> None:
    url = f"{gh.base_url}/repos/{REPO}/issues"
    ua = {"User-Agent": "test"}
    missing = await http.post(url, json={"title": "t"}, headers=ua)
    assert (missing.status_code, missing.json()["message"]) == (401, "Requires authentication")
    auth = {**ua, "Authorization": f"token {TOKEN}"}
    bare = {"Authorization": f"token {TOKEN}", "User-Agent": ""}  # httpx sends one by default
    no_agent = await http.post(url, json={"title": "t"}, headers=bare)
    assert no_agent.status_code == 403
    assert "User-Agent" in no_agent.json()["message"]
    version = await http.get(url, headers={**auth, "X-GitHub-Api-Version": "2020-01-01"})
    assert version.status_code == 400
    other = await http.get(f"{gh.base_url}/repos/someone/else/issues", headers=auth)
    assert (other.status_code, other.json()["message"]) == (404, "Not Found")
    typed = await http.post(url, json={"title": ["t"]}, headers=auth)
    assert typed.status_code == 422
    assert typed.json()["message"].startswith("Invalid request.\n\nFor 'properties/title'")
    garbled = await http.post(url, content=b"{not json", headers=auth)
    assert (garbled.status_code, garbled.json()["message"]) == (400, "Problems parsing JSON")
    for answer in (missing, version, other, typed, garbled):
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(
            answer.headers
        )


async def test_a_missing_label_is_created_with_push_access_and_dropped_without(
    gh: FakeGitHub, http: httpx.AsyncClient
) -> None:
    api = api_for(gh, http)
    assert LABEL not in gh.labels()
    await GitHubPublisher(api, label=LABEL).publish(payload(40))
    assert gh.labels()[LABEL] == "ededed"
    assert gh.issues()[-1].labels == [LABEL]
    gh.repo.push_access = False
    await GitHubPublisher(api, label="other").publish(payload(41))
    assert gh.issues()[-1].labels == []
    assert "other" not in gh.labels()


async def test_a_token_without_issues_write_and_disabled_issues_are_permanent(
    gh: FakeGitHub, http: httpx.AsyncClient
) -> None:
    publisher = GitHubPublisher(api_for(gh, http))
    gh.token_can_write = False
    with pytest.raises(Rejected, match="GitHub 403: the token may not file issues"):
        await publisher.publish(payload(50))
    gh.token_can_write = True
    gh.repo.issues_enabled = False
    with pytest.raises(Rejected, match="GitHub 410: issues are disabled"):
        await publisher.publish(payload(50))
    assert gh.issues() == []


async def test_the_content_limit_is_a_secondary_limit_with_retry_after(
    http: httpx.AsyncClient,
) -> None:
    limits = GitHubLimits(content_per_minute=2, secondary_retry_after=17)
    async with FakeGitHub(token=TOKEN, repo=REPO, limits=limits) as gh:
        publisher = GitHubPublisher(api_for(gh, http))
        for n in (60, 61):
            await publisher.publish(payload(n))
        with pytest.raises(RetryLater, match="secondary rate limit") as caught:
            await publisher.publish(payload(62))
        assert caught.value.retry_after == 17
        gh.advance(61)
        await publisher.publish(payload(62))
        assert len(gh.issues()) == 3


def test_a_connection_problem_is_sorted_by_whether_the_request_left() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:9/repos/o/r/issues")
    never = [httpx.ConnectError("refused", request=request), httpx.PoolTimeout("pool")]
    maybe = [
        httpx.ReadTimeout("slow", request=request),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.WriteError("broken pipe", request=request),
    ]
    assert all(isinstance(classify_transport(e), RetryLater) for e in never)
    assert all(isinstance(classify_transport(e), MaybeSent) for e in maybe)


async def test_a_settler_that_cannot_reach_github_leaves_the_doubt_to_the_editors(
    http: httpx.AsyncClient,
) -> None:
    async with FakeGitHub(token=TOKEN, repo=REPO) as gh:
        api = api_for(gh, http)
    found = await GitHubProbe(api, quiet_seconds=0).settle(
        payload(70), KnownPosts(claimed_at=time.time())
    )
    assert (found.verdict, found.reason) == ("unknown", "listing issues, page 1: ConnectError")


async def test_an_approval_files_the_issue_and_the_reader_hears_without_waiting_for_it(
    store: Store, gh: FakeGitHub, http: httpx.AsyncClient, bot: telegram.Bot
) -> None:
    service = SubmissionService(
        SubmissionStore(store.db),
        SubmissionsSettings(cooldown_seconds=0),
        targets=(TELEGRAM, GITHUB),
    )
    outcome = await service.submit(
        Submitter(user_id=1002, display_name="Ada"), "https://blog.example.org/a Read it."
    )
    assert isinstance(outcome, Accepted)
    assert await service.approve(outcome.submission_id, editor="user:1001")
    channel = await store.outbox.claim_next(TELEGRAM, owner="w", lease_seconds=60, now=time.time())
    assert channel is not None
    await store.outbox.mark_started(channel.id, owner="w", lease_seconds=60, now=time.time())
    await store.outbox.mark_sent(channel.id, owner="w", remote_id="5", now=time.time())
    gh.inject(FaultKind.SECONDARY_LIMIT, endpoint=CREATE_ISSUE)  # the issue waits a minute
    await worker(store, gh, http, bot).step()
    assert gh.issues() == []
    assert [s.id for s in await service.published()] == [outcome.submission_id]
    clock = ShiftedClock()
    clock.offset = 61
    assert await step_until_idle(worker(store, gh, http, bot, clock=clock)) == 1
    (filed,) = gh.issues()
    assert filed.body is not None
    assert filed.body.endswith(f"<!-- weeklybot:submission:{outcome.submission_id} -->")


async def test_the_start_check_names_a_bad_token_a_missing_repo_and_a_dropped_label(
    gh: FakeGitHub, http: httpx.AsyncClient
) -> None:
    def configured(**github: Any) -> Any:
        return github_settings(api_base_url=gh.base_url, **github)

    assert await check_github(configured(), http) == []
    assert await check_github(configured(), None) == []
    (bad,) = await check_github(configured(token=TOKEN[:-2] + "xx"), http)
    assert bad.fatal
    assert bad.text.startswith("GitHub refused the token (Bad credentials); set WEEKLYBOT_GITHUB")
    assert TOKEN[:-2] not in bad.text
    (missing,) = await check_github(configured(repo="someone/else"), http)
    assert missing.fatal
    assert "no repository someone/else the token can see" in missing.text
    gh.repo.push_access = False
    (label,) = await check_github(configured(), http)
    assert not label.fatal
    assert "without the label 'submission'" in label.text
    gh.repo.issues_enabled = False
    (disabled,) = await check_github(configured(), http)
    assert disabled.fatal
    assert disabled.text == f"issues are disabled in {REPO}: turn them on"
    assert len(gh.calls(GET_REPOSITORY)) == 5
