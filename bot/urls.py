"""The SSRF check and the link rules under the name issue 12 gives them (`bot.urls`).

Public SSRF test suites import `bot.urls.check_public_url`; the rules themselves live
in the domain (`bot.domain.urls`) so that `data/` can key stored links without
importing the application. This module only names them; it holds no logic.
"""

from bot.domain.urls import (
    EXAMPLE_URL,
    MAX_URL_LENGTH,
    TRACKING_PARAMS,
    InvalidURLError,
    PublicURL,
    Resolver,
    SubmittedLink,
    UnsafeURLError,
    canonical_url,
    check_public_url,
    dedupe_key,
    parse_allow_list,
    parse_submission,
)

__all__ = [
    "EXAMPLE_URL",
    "MAX_URL_LENGTH",
    "TRACKING_PARAMS",
    "InvalidURLError",
    "PublicURL",
    "Resolver",
    "SubmittedLink",
    "UnsafeURLError",
    "canonical_url",
    "check_public_url",
    "dedupe_key",
    "parse_allow_list",
    "parse_submission",
]
