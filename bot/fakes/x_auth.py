"""OAuth 1.0a (HMAC-SHA1) verification for the fake X API.

The fake checks signatures the way X does: over the ORIGINAL
``https://api.twitter.com/...`` (or ``api.x.com``) URL, because the client signs
before its middleware retargets the request to the loopback fake
(PLATFORMS.md B.2). Per RFC 5849 §3.4.1.3.1 only query parameters, the
``oauth_*`` header parameters and form-urlencoded body parameters are signed;
JSON and multipart bodies are not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from oauthlib.common import safe_string_equals  # type: ignore[import-untyped]
from oauthlib.oauth1.rfc5849 import signature, utils  # type: ignore[import-untyped]

REQUIRED_OAUTH_PARAMS = frozenset(
    {
        "oauth_consumer_key",
        "oauth_nonce",
        "oauth_signature",
        "oauth_signature_method",
        "oauth_timestamp",
        "oauth_token",
    }
)


@dataclass(frozen=True, slots=True)
class OAuthCredentials:
    """The one app + user pair the fake accepts."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why a request was refused; logged in the call log, never sent to the client."""

    reason: str


class _Secrets:
    """The two attributes oauthlib's ``sign_*_with_client`` reads."""

    def __init__(self, credentials: OAuthCredentials) -> None:
        self.client_secret = credentials.consumer_secret
        self.resource_owner_secret = credentials.access_token_secret


def original_url(host: str, raw_path: str) -> str:
    """Return the https URL the client signed, query excluded."""
    path = raw_path.partition("?")[0]
    return f"https://{host}{path}"


def verify_oauth1(
    *,
    method: str,
    host: str,
    raw_path: str,
    authorization: str | None,
    form_params: Sequence[tuple[str, str]],
    credentials: OAuthCredentials,
    seen_nonces: set[tuple[str, str]],
) -> AuthFailure | None:
    """Check an OAuth 1.0a user-context ``Authorization`` header; None when valid.

    ``form_params`` are the body parameters of a form-urlencoded request (empty
    for JSON and multipart bodies). A nonce seen before with the same timestamp
    is refused, as RFC 5849 §3.3 asks of servers.
    """
    if not authorization or not authorization.startswith("OAuth "):
        return AuthFailure("no OAuth Authorization header")
    try:
        header_params: Mapping[str, str] = {
            key: utils.unescape(value)
            for key, value in utils.parse_authorization_header(authorization)
        }
    except (ValueError, TypeError):
        return AuthFailure("malformed Authorization header")
    missing = REQUIRED_OAUTH_PARAMS - header_params.keys()
    if missing:
        return AuthFailure(f"missing {', '.join(sorted(missing))}")
    if header_params["oauth_signature_method"] != "HMAC-SHA1":
        return AuthFailure("unsupported signature method")
    if header_params.get("oauth_version", "1.0") != "1.0":
        return AuthFailure("unsupported oauth_version")
    if header_params["oauth_consumer_key"] != credentials.consumer_key:
        return AuthFailure("unknown consumer key")
    if header_params["oauth_token"] != credentials.access_token:
        return AuthFailure("unknown access token")

    raw_query = raw_path.partition("?")[2]
    params = signature.collect_parameters(
        uri_query=raw_query,
        body=list(form_params),
        headers={"Authorization": authorization},
        exclude_oauth_signature=True,
    )
    base_string = signature.signature_base_string(
        method.upper(),
        signature.base_string_uri(original_url(host, raw_path)),
        signature.normalize_parameters(params),
    )
    expected = signature.sign_hmac_sha1_with_client(base_string, _Secrets(credentials))
    if not safe_string_equals(expected, header_params["oauth_signature"]):
        return AuthFailure("bad signature")

    nonce = (header_params["oauth_timestamp"], header_params["oauth_nonce"])
    if nonce in seen_nonces:
        return AuthFailure("nonce reused")
    seen_nonces.add(nonce)
    return None
