"""Secret masking: the one redaction every error, log line and stored message goes through."""

from __future__ import annotations

import base64
import binascii
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable

MASK = "[redacted]"
# Shorter registered values would mask ordinary words and numbers all over the log.
MIN_SECRET_LENGTH = 4

# Names whose value is a secret, whether in JSON, a Python dict, a query string, a form body or
# a header: the known ones, and any name that speaks of a token, secret, password or key
# (sessionToken, x_refresh_token, webhook_secret, db_password, x-api-key…), but not a name that
# only describes one (token_type, x_refresh_token_expires_in).
_SECRET_NAMES = (
    r"(?![\w-]*(?:_type|_expires_in|_expires_at)\b)[\w-]*(?:token|secret|passw(?:or)?d|api[_-]?key|consumer[_-]?key|authori[sz]ation"
    r"|credential)[\w-]*"
)
_AUTH_SCHEMES = r"(?:bearer|basic|token|oauth|digest)\s+"
_SECRET_NAME = re.compile(_SECRET_NAMES, re.I)

_MASKED = re.escape(MASK)
_AUTH_SCHEME = re.compile(_AUTH_SCHEMES, re.I)
_UNSECRET_VALUES = frozenset({"null", "None", "true", "false", '""', "''"})
# A long opaque run of letters and digits (a refresh token, an API key): no word has digits
# mixed in over 32 characters. UUIDs (request ids) are told apart by their shape.
_OPAQUE_TOKEN = re.compile(r"(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[a-z])[\w-]{32,}(?![\w-])", re.I)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# A number people made up (a prefixed marketplace order number, WEB-STORE-AMZ-354-4146381-0005092)
# keeps letters and digits in separate short parts; a random token mixes them within long runs.
_HUMAN_NUMBER = re.compile(r"(?:[a-z]{1,12}|\d{1,12})(?:[-_](?:[a-z]{1,12}|\d{1,12}))+", re.I)


def is_secret_name(name: str) -> bool:
    """Whether a header, parameter or field of this name carries a secret (Authorization,
    X-Shopify-Access-Token, consumer_key, refresh_token…)."""
    return _SECRET_NAME.fullmatch(name) is not None


def _mask_quoted_value(match: re.Match[str]) -> str:
    value = match["value"]
    if value in _UNSECRET_VALUES or MASK in value:
        return match[0]
    body = value.removeprefix("b")
    quote = body[0] if body[:1] in ("'", '"') else ""
    scheme = _AUTH_SCHEME.match(body.strip(quote))
    return f"{match['head']}{quote}{scheme[0] if scheme else ''}{MASK}{quote}"


def _mask_basic_credentials(match: re.Match[str]) -> str:
    """`Basic <base64 of user:password>` anywhere; "Basic plan" and the like stay."""
    try:
        decoded = base64.b64decode(match["value"], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return match[0]
    return f"{match['scheme']} {MASK}" if ":" in decoded else match[0]


def _mask_opaque_token(match: re.Match[str]) -> str:
    plainly_not_secret = _UUID.fullmatch(match[0]) or _HUMAN_NUMBER.fullmatch(match[0])
    return match[0] if plainly_not_secret else MASK


_PATTERNS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # "name": "value" and 'name': 'value' (JSON, escaped JSON, dict reprs of headers, tokens)
    (re.compile(rf"""(?P<head>\\?(?P<q>["'])(?:{_SECRET_NAMES})\\?(?P=q)\s*:\s*)"""
                r"""(?P<value>b?"(?:[^"\\]|\\.)*"|b?'(?:[^'\\]|\\.)*'|[^\s,}\]]+)""", re.I),
     _mask_quoted_value),
    # name=value in query strings and form bodies
    (re.compile(rf"(?P<key>\b(?:{_SECRET_NAMES}))=(?!{_MASKED})[^&\s\"',;)}}\]]+", re.I),
     rf"\g<key>={MASK}"),
    # the OAuth authorization code in a redirect URL (`code` alone is too common a word)
    (re.compile(rf"(?P<key>[?&]code=)(?!{_MASKED})[^&\s\"'#]+"), rf"\g<key>{MASK}"),
    # "Name: value" header lines
    (re.compile(rf"(?P<key>\b(?:{_SECRET_NAMES})[ \t]*:[ \t]*)(?!(?:{_AUTH_SCHEMES})?{_MASKED})"
                rf"(?P<scheme>{_AUTH_SCHEMES})?[^\s\"',<]+", re.I),
     rf"\g<key>\g<scheme>{MASK}"),
    # a bearer token anywhere else (but not the word ending a URL path, as in /tokens/bearer)
    (re.compile(r"(?<![/\w.-])(?P<scheme>bearer)\s+[\w\-.~+/]+=*", re.I), rf"\g<scheme> {MASK}"),
    # Basic credentials anywhere else (an HTML page echoing the request's headers)
    (re.compile(r"(?<![/\w.-])(?P<scheme>basic)\s+(?P<value>[A-Za-z0-9+/]{4,}={0,2})", re.I),
     _mask_basic_credentials),
    # JSON web tokens (QuickBooks access and id tokens)
    (re.compile(r"\beyJ[\w-]*\.[\w-]*\.[\w-]*"), MASK),
    # WooCommerce consumer keys and secrets; Shopify access tokens and shared secrets
    (re.compile(r"\b(?:ck|cs)_[0-9a-f]{40}\b", re.I), MASK),
    (re.compile(r"\bshp(?:at|ca|pa|ss)_[0-9a-f]{32}\b", re.I), MASK),
    (_OPAQUE_TOKEN, _mask_opaque_token),
    # the password in requests' `auth=(user, password)` when its keyword arguments are logged
    (re.compile(r"(?P<head>['\"]auth['\"]:\s*\(\s*(?P<q>['\"]).*?(?P=q)\s*,\s*)"
                r"(?P<q2>['\"]).*?(?P=q2)\s*\)"),
     rf"\g<head>\g<q2>{MASK}\g<q2>)"),
    # the password in https://user:password@host
    (re.compile(r"(?P<prefix>\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@", re.I),
     rf"\g<prefix>{MASK}@"),
)

_registered: set[str] = set()
_registered_pattern: re.Pattern[str] | None = None
_registered_lock = threading.Lock()


def _forms(value: str) -> set[str]:
    """The value as written and URL-encoded, as it may appear in a query string or form."""
    return {value, urllib.parse.quote(value), urllib.parse.quote(value, safe=""),
            urllib.parse.quote_plus(value)}


def _pattern(values: Iterable[str]) -> re.Pattern[str]:
    # Longest first, so a secret that contains another is masked whole.
    ordered = sorted(values, key=len, reverse=True)
    return re.compile("|".join(re.escape(value) for value in ordered))


def register_secret(value: str) -> None:
    """Mask this exact value (and its URL-encoded forms) everywhere from now on.

    The app calls it with every secret it reads from or writes to the keyring.
    """
    global _registered_pattern
    if len(value) < MIN_SECRET_LENGTH:
        return
    forms = _forms(value)
    with _registered_lock:
        if forms <= _registered:
            return
        _registered.update(forms)
        _registered_pattern = _pattern(_registered)


def redact(text: str, known: Iterable[str] = ()) -> str:
    """The text with every known kind of secret masked: the `known` values, every registered
    one, and anything that looks like a credential (Authorization, Bearer, Basic, tokens,
    keys, passwords in headers, query strings and JSON)."""
    if not text:    # most orders' reasons and details: nothing to look through
        return text
    extra = {form for value in known if value for form in _forms(value)}
    for pattern in (_pattern(extra) if extra else None, _registered_pattern):
        if pattern is not None:
            text = pattern.sub(MASK, text)
    for secret_pattern, replacement in _PATTERNS:
        text = secret_pattern.sub(replacement, text)
    return text
