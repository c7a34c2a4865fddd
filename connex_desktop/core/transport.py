"""Where credentials may travel: over https, or plain http to this computer; never redirected."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from connex_desktop.core.errors import SetupError
from connex_desktop.core.redaction import is_secret_name


class UnsafeRedirect(SetupError):
    """A service answered a request carrying credentials with a redirect to another address."""


def is_loopback(url: str) -> bool:
    """Whether `url` points at this machine (local test servers and the sandbox)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_secure_address(url: str) -> bool:
    """Whether credentials may be sent to `url`: https anywhere, plain http only to this
    computer (where nothing crosses a network)."""
    parts = urlsplit(url.strip())
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback(url))


def carries_credentials(request: Any) -> bool:
    """Whether a prepared request holds a secret in a header or in its query string."""
    query = urlsplit(request.url or "").query
    return (any(is_secret_name(name) for name in request.headers)
            or any(is_secret_name(name) for name, _value in parse_qsl(query)))


def refuse_unsafe_redirect(response: Any, *_args: Any, **_kwargs: Any) -> None:
    """A `requests` response hook: a redirect of a request carrying credentials to another host
    or scheme raises UnsafeRedirect instead of being followed (requests would send
    X-Shopify-Access-Token, X-Auth-Token, query keys or a POSTed token along)."""
    if not response.is_redirect or not carries_credentials(response.request):
        return
    origin = urlsplit(response.request.url)
    target = urlsplit(urljoin(response.request.url, response.headers["location"]))
    if (origin.scheme, origin.hostname) != (target.scheme, target.hostname):
        raise UnsafeRedirect(
            f"{origin.scheme}://{origin.hostname} redirected the request to "
            f"{target.scheme}://{target.hostname}; Connex Desktop does not send passwords or "
            "tokens on to another address. If the service has moved, enter its new address.")
