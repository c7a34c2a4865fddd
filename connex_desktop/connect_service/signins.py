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


class SignIns:
    """The sign-ins in progress, in memory only: a restart forgets them (and their tokens)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._by_id: dict[str, SignIn] = {}
        self._id_by_state: dict[str, str] = {}

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
               failure: str = "") -> None:
        """Keep the tokens (for TOKENS_HELD_S at most) or why there are none."""
        with self._lock:
            sign_in = self._by_id.get(sign_in_id)
            if sign_in is None:
                return
            sign_in.tokens, sign_in.failure = tokens, failure
            sign_in.expires_at = min(sign_in.expires_at, self._clock() + TOKENS_HELD_S)

    def claim(self, sign_in_id: str, verifier: str) -> dict[str, Any] | None:
        """The tokens, handed over once to whoever proves the verifier; None while pending."""
        with self._lock:
            self._forget_expired()
            sign_in = self._by_id.get(sign_in_id)
            if sign_in is None:
                raise SignInRefused(410, "expired", "This sign-in expired or is not known; "
                                    "start again.")
            if not secrets.compare_digest(s256(verifier), sign_in.challenge):
                raise SignInRefused(403, "invalid_verifier",
                                    "The verifier does not match the one this sign-in began "
                                    "with.")
            if sign_in.claimed:
                raise SignInRefused(410, "already_claimed",
                                    "The tokens of this sign-in were already handed over.")
            if sign_in.failure:
                del self._by_id[sign_in_id]
                self._id_by_state.pop(sign_in.state, None)
                raise SignInRefused(409, sign_in.failure, "QuickBooks did not grant access "
                                    f"({sign_in.failure}); start again.")
            if sign_in.tokens is None:
                return None
            tokens, sign_in.tokens, sign_in.claimed = sign_in.tokens, None, True
            return tokens

    def _forget_expired(self) -> None:
        now = self._clock()
        for sign_in_id, sign_in in list(self._by_id.items()):
            if sign_in.expires_at <= now:
                del self._by_id[sign_in_id]
                self._id_by_state.pop(sign_in.state, None)
