"""Sign-ins in progress: each one's state, its verifier's challenge, its tokens until claimed."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connex_desktop.quickbooks.connect_client import s256

# How long a user has to approve in the browser, and how long the service holds the tokens
# of an approved sign-in for the app to collect (the app polls every second or so).
SIGN_IN_LIFETIME_S = 600.0
TOKENS_HELD_S = 120.0
# How long the app has to store the tokens it claimed and confirm it did, and how long the
# redirect page can still ask how its sign-in ended.
CONFIRM_WITHIN_S = 120.0
PAGE_KEPT_S = SIGN_IN_LIFETIME_S
# A verifier of RFC 7636's length (43 to 128 characters) has at least 256 bits to guess.
CHALLENGE_LENGTH = 43


class SignInRefused(Exception):
    """A step of a sign-in refused; `reason` is a stable name, the message says it plainly."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message


@dataclass
class SignIn:
    challenge: str
    state: str
    expires_at: float
    tokens: dict[str, Any] | None = None        # Intuit's answer, plus realm_id and company
    failure: str = ""                           # why it ended without tokens (access_denied…)
    finished: bool = False                      # the callback came (state used up)
    claimed: bool = False
    page_id: str = ""                           # the redirect page asking how it ended


@dataclass
class PageStatus:
    """What the redirect page says: "finishing" until the app confirms, then how it ended."""

    company: str
    forget_at: float
    status: str = "finishing"                   # then "connected" or "not_connected"
    reason: str = ""


class SignIns:
    """The sign-ins in progress, in memory only: a restart forgets them (and their tokens)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._by_id: dict[str, SignIn] = {}
        self._id_by_state: dict[str, str] = {}
        self._pages: dict[str, PageStatus] = {}

    def start(self, challenge: str) -> tuple[str, str]:
        """A new sign-in for this challenge: (its id, the state to send Intuit)."""
        if len(challenge) != CHALLENGE_LENGTH:
            raise SignInRefused(400, "invalid_challenge",
                                "code_challenge must be the S256 challenge of a random verifier.")
        sign_in_id, state = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self._lock:
            self._forget_expired()
            self._by_id[sign_in_id] = SignIn(challenge, state,
                                             self._clock() + SIGN_IN_LIFETIME_S)
            self._id_by_state[state] = sign_in_id
        return sign_in_id, state

    def take_state(self, state: str) -> str:
        """The id of the sign-in this callback's state belongs to; the state is then used up."""
        with self._lock:
            self._forget_expired()
            sign_in_id = self._id_by_state.get(state)
            sign_in = self._by_id.get(sign_in_id or "")
            if sign_in is None:
                raise SignInRefused(400, "unknown_state",
                                    "This sign-in is not known here: it expired or was never "
                                    "started. Start again from Connex Desktop.")
            if sign_in.finished:
                raise SignInRefused(400, "state_used",
                                    "This sign-in link was already used. Start again from "
                                    "Connex Desktop.")
            sign_in.finished = True
            return sign_in_id or ""

    def finish(self, sign_in_id: str, *, tokens: dict[str, Any] | None = None,
               failure: str = "") -> str:
        """Keep the tokens (for TOKENS_HELD_S at most) or why there are none; with tokens, the
        opaque id of the page that follows the sign-in until the app confirms."""
        with self._lock:
            sign_in = self._by_id.get(sign_in_id)
            if sign_in is None:
                return ""
            now = self._clock()
            sign_in.tokens, sign_in.failure = tokens, failure
            sign_in.expires_at = min(sign_in.expires_at, now + TOKENS_HELD_S)
            if tokens is not None:
                sign_in.page_id = secrets.token_urlsafe(24)
                self._pages[sign_in.page_id] = PageStatus(str(tokens.get("company_name", "")),
                                                          now + PAGE_KEPT_S)
            return sign_in.page_id

    def page(self, page_id: str) -> PageStatus | None:
        """How the sign-in behind this redirect page stands; None when not known (any more)."""
        with self._lock:
            self._forget_expired()
            return self._pages.get(page_id)

    def claim(self, sign_in_id: str, verifier: str) -> dict[str, Any] | None:
        """The tokens, handed over once to whoever proves the verifier; None while pending."""
        with self._lock:
            sign_in = self._proven(sign_in_id, verifier)
            if sign_in.claimed:
                raise SignInRefused(410, "already_claimed",
                                    "The tokens of this sign-in were already handed over.")
            if sign_in.failure:
                self._forget(sign_in_id)
                raise SignInRefused(409, sign_in.failure, "QuickBooks did not grant access "
                                    f"({sign_in.failure}); start again.")
            if sign_in.tokens is None:
                return None
            tokens, sign_in.tokens, sign_in.claimed = sign_in.tokens, None, True
            sign_in.expires_at = self._clock() + CONFIRM_WITHIN_S
            return tokens

    def confirm(self, sign_in_id: str, verifier: str, failure: str = "") -> str:
        """The app stored the tokens it claimed (or says why it could not): its page's status."""
        with self._lock:
            sign_in = self._proven(sign_in_id, verifier)
            if not sign_in.claimed:
                raise SignInRefused(409, "not_claimed",
                                    "The tokens of this sign-in were not handed over yet.")
            self._forget(sign_in_id)
            page = self._pages.get(sign_in.page_id)
            if page is None:
                return "not_connected"
            if failure:
                page.status, page.reason = "not_connected", failure
            else:
                page.status = "connected"
            return page.status

    def _proven(self, sign_in_id: str, verifier: str) -> SignIn:
        """The sign-in, for whoever proves the verifier it began with."""
        self._forget_expired()
        sign_in = self._by_id.get(sign_in_id)
        if sign_in is None:
            raise SignInRefused(410, "expired", "This sign-in expired or is not known; "
                                "start again.")
        if not secrets.compare_digest(s256(verifier), sign_in.challenge):
            raise SignInRefused(403, "invalid_verifier",
                                "The verifier does not match the one this sign-in began with.")
        return sign_in

    def _forget(self, sign_in_id: str) -> None:
        sign_in = self._by_id.pop(sign_in_id)
        self._id_by_state.pop(sign_in.state, None)

    def _forget_expired(self) -> None:
        now = self._clock()
        for sign_in_id, sign_in in list(self._by_id.items()):
            if sign_in.expires_at <= now:
                self._forget(sign_in_id)
                page = self._pages.get(sign_in.page_id)
                if page is not None and page.status == "finishing":
                    page.status, page.reason = "not_connected", (
                        "Connex Desktop did not confirm in time that it stored the connection "
                        "(it says there whether it did)" if sign_in.claimed
                        else "Connex Desktop did not collect the sign-in in time")
        for page_id, page in list(self._pages.items()):
            if page.forget_at <= now:
                del self._pages[page_id]
