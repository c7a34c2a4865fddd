"""The connect service's settings, read from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

PREFIX = "CONNEX_CONNECT_"


class SettingsError(ValueError):
    """A required setting is missing or unusable; the message names the variable."""


@dataclass(frozen=True)
class ServiceSettings:
    client_id: str
    client_secret: str
    environment: str          # production, sandbox, or the base URL of an Intuit stand-in
    redirect_uri: str         # the HTTPS page registered with Intuit: this service's /callback
    allowed_origins: frozenset[str] = frozenset()   # browser pages that may call the JSON API
    requests_per_minute: int = 120                  # per client address
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-For is believed

    def __repr__(self) -> str:   # the secret never reaches a log line or a traceback
        return (f"ServiceSettings(client_id={self.client_id!r}, environment="
                f"{self.environment!r}, redirect_uri={self.redirect_uri!r})")

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ServiceSettings:
        def required(name: str) -> str:
            value = environ.get(PREFIX + name, "").strip()
            if not value:
                raise SettingsError(f"Set {PREFIX}{name} (see README, 'Run your own connect "
                                    "service').")
            return value

        def number(name: str, default: int) -> int:
            text = environ.get(PREFIX + name, "").strip()
            try:
                return int(text) if text else default
            except ValueError:
                raise SettingsError(f"{PREFIX}{name} must be a whole number, not {text!r}.") \
                    from None

        origins = environ.get(PREFIX + "ALLOWED_ORIGINS", "")
        return cls(client_id=required("CLIENT_ID"), client_secret=required("CLIENT_SECRET"),
                   environment=required("ENVIRONMENT"), redirect_uri=required("REDIRECT_URI"),
                   allowed_origins=frozenset(o.strip().rstrip("/") for o in origins.split(",")
                                             if o.strip()),
                   requests_per_minute=number("REQUESTS_PER_MINUTE", 120),
                   trusted_proxies=number("TRUSTED_PROXIES", 0))
