"""Why a publish failed, sorted by what the delivery worker must do next.

PublishError
 ├── NotSent              the platform surely did not post it
 │    ├── RetryLater      429, a 5xx with an API error body, connection refused:
 │    │                   send again after `retry_after` (None: use backoff)
 │    └── Rejected        the post or the target is wrong (bad entities, too long,
 │                        chat not found, not an admin): retrying cannot help
 ├── MaybeSent            a timeout, or the connection was lost after the request
 │                        was written: nobody knows, so never resend blindly
 └── AlreadyPosted        X refused a resend as a duplicate: the earlier, doubtful
                          attempt did go out; `remote_id` is its id if it was found
"""

from __future__ import annotations


class PublishError(Exception):
    """Base of every delivery failure; `str()` is what the editors are shown."""


class NotSent(PublishError):
    """The platform answered with an error or was never reached."""


class RetryLater(NotSent):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Rejected(NotSent):
    """A permanent refusal: the row goes to `failed` and the editors are told."""


class MaybeSent(PublishError):
    """The request may have been processed; the row goes to `in_doubt`."""


class AlreadyPosted(PublishError):
    """A resend was refused as a duplicate, which proves the first attempt went out.

    The refusal does not name the post; `remote_id` is the id found by looking
    it up afterwards, None when the lookup failed or found nothing.
    """

    def __init__(self, message: str, *, remote_id: str | None = None) -> None:
        super().__init__(message)
        self.remote_id = remote_id
