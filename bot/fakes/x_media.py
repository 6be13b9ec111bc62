"""X's media rules for the fake: categories, sizes, sniffed types, processing states.

The upload routes in ``bot.fakes.x_api`` apply them; what an upload records is
``bot.fakes.x_model.MediaUpload``.
"""

from __future__ import annotations

from bot.fakes.x_http import Json, bad_request
from bot.fakes.x_model import MediaState, MediaUpload, XLimits

MAX_SEGMENT_INDEX = 999
MAX_SEGMENT_BYTES = 5 * 1024 * 1024
ASYNC_CATEGORIES = frozenset({"tweet_video", "tweet_gif", "amplify_video"})
# media_category -> (accepted media types, maximum bytes); docs.x.com media best practices
CATEGORY_RULES: dict[str, tuple[frozenset[str], int]] = {
    "tweet_image": (
        frozenset({"image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"}),
        5 * 1024 * 1024,
    ),
    "tweet_gif": (frozenset({"image/gif"}), 15 * 1024 * 1024),
    "tweet_video": (frozenset({"video/mp4", "video/quicktime"}), 512 * 1024 * 1024),
    "amplify_video": (frozenset({"video/mp4", "video/quicktime"}), 512 * 1024 * 1024),
}
MEDIA_KEY_PREFIX = {
    "tweet_image": "3",
    "tweet_gif": "16",
    "tweet_video": "7",
    "amplify_video": "13",
}


def sniff_media_type(data: bytes) -> str | None:
    """Return the media type the bytes really are, from their magic number."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"BM"):
        return "image/bmp"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    return None


def check_media_fits(category: str, media_type: str, size: int) -> None:
    """Refuse a type the category does not take, or more bytes than it allows."""
    accepted, max_bytes = CATEGORY_RULES[category]
    if media_type not in accepted:
        raise bad_request(
            f"media type {media_type} is not valid for {category}", "media_type", media_type
        )
    if size > max_bytes:
        raise bad_request(f"File size exceeds {max_bytes} bytes", "total_bytes", size)


def upload_data(upload: MediaUpload, *, now: float, limits: XLimits, include_size: bool) -> Json:
    """The ``data`` object X answers an upload step with."""
    data: Json = {
        "id": upload.id,
        "media_key": upload.media_key,
        "expires_after_secs": max(0, int(upload.expires_at - now)),
    }
    if include_size:
        data["size"] = upload.total_bytes
    if upload.state in (MediaState.PENDING, MediaState.IN_PROGRESS):
        data["processing_info"] = {
            "state": upload.state.value,
            "check_after_secs": limits.check_after_secs,
            "progress_percent": 0 if upload.state is MediaState.PENDING else 50,
        }
    elif upload.state is MediaState.SUCCEEDED and upload.category in ASYNC_CATEGORIES:
        data["processing_info"] = {"state": "succeeded", "progress_percent": 100}
    return data


def start_processing(upload: MediaUpload, limits: XLimits) -> None:
    """Images are ready at once; videos and GIFs take ``limits.processing_polls`` polls."""
    if upload.category in ASYNC_CATEGORIES and limits.processing_polls > 0:
        upload.state = MediaState.PENDING
        upload.polls_left = limits.processing_polls
    else:
        upload.state = MediaState.SUCCEEDED
