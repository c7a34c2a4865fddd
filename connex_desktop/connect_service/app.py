"""The connect service's web app (Flask, WSGI): sign-ins, the redirect page, refresh, revoke."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from html import escape
from typing import Any

import requests
from flask import Flask, Response, g, jsonify, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

from connex_desktop.connect_service.intuit import IntuitApp, IntuitUnavailable
from connex_desktop.connect_service.limits import TokenBuckets
from connex_desktop.connect_service.settings import ServiceSettings
from connex_desktop.connect_service.signins import (
    SIGN_IN_LIFETIME_S,
    PageStatus,
    SignInRefused,
    SignIns,
)
from connex_desktop.logs import RedactingFilter

log = logging.getLogger("connex_desktop.connect_service")
log.addFilter(RedactingFilter())
# The app's own words for why it could not store a connection, shown on the page: bounded.
MAX_REASON = 1000

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="referrer" content="no-referrer"><title>{title} — Connex Desktop</title>{head}</head>
<body style="font-family: sans-serif; margin: 3em auto; max-width: 36em">
<h1>{title}</h1><p>{text}</p>{body}</body></html>"""
# While the app finishes, the page asks how it went: with a script, in place; without one, by
# reloading itself (and a link, should the browser not reload).
CHECK_AGAIN_S = 2
FOLLOW_HEAD = """<noscript><meta http-equiv="refresh" content="{seconds}; url={page}"></noscript>"""
FOLLOW_BODY = """<noscript><p><a href="{page}">Check again</a></p></noscript><script>
(function check() {{ setTimeout(function () {{
  fetch({status}, {{cache: "no-store"}}).then(function (reply) {{
      if (!reply.ok) {{ throw reply.status; }}   // rate limited: ask again later
      return reply.json();
    }})
    .then(function (page) {{
      document.title = page.title + " — Connex Desktop";
      document.querySelector("h1").textContent = page.title;
      document.querySelector("p").textContent = page.text;
      if (page.status === "finishing") {{ check(); }}
    }}, check);
}}, {seconds}000); }})();
</script>"""


def create_app(settings: ServiceSettings, *, clock: Callable[[], float] = time.monotonic,
               session: requests.Session | None = None) -> Flask:
    """The WSGI app: `gunicorn 'connex_desktop.connect_service.wsgi:app'` serves it for real."""
    app = Flask(__name__)
    app.logger.addFilter(RedactingFilter())    # its tracebacks may quote a request
    intuit = IntuitApp(settings, session)
    sign_ins = SignIns(clock)
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore
                                x_proto=settings.trusted_proxies)
    _guard(app, settings, TokenBuckets(settings.requests_per_minute, clock))
    _page_status_routes(app, sign_ins)

    @app.post("/v1/sign-ins")
    def start_sign_in() -> tuple[Response, int]:
        body = _json_body()
        if body.get("code_challenge_method") != "S256":
            raise SignInRefused(400, "invalid_challenge", "code_challenge_method must be S256.")
        sign_in_id, state = sign_ins.start(str(body.get("code_challenge", "")))
        return jsonify(sign_in_id=sign_in_id, authorization_url=intuit.authorization_url(state),
                       expires_in=int(SIGN_IN_LIFETIME_S)), 201

    @app.get("/callback")
    def callback() -> tuple[str, int]:
        try:
            sign_in_id = sign_ins.take_state(request.args.get("state", ""))
        except SignInRefused as error:
            return _page("Not connected", error.message, error.status)
        return _finish_sign_in(sign_in_id, request.args, sign_ins, intuit)

    @app.post("/v1/sign-ins/<sign_in_id>/confirm")
    def confirm(sign_in_id: str) -> Response:
        body = _json_body()
        failure = str(body.get("failure") or "")[:MAX_REASON]
        status = sign_ins.confirm(sign_in_id, str(body.get("code_verifier", "")), failure)
        return jsonify(status=status)

    @app.post("/v1/sign-ins/<sign_in_id>/claim")
    def claim(sign_in_id: str) -> tuple[Response, int]:
        tokens = sign_ins.claim(sign_in_id, str(_json_body().get("code_verifier", "")))
        if tokens is None:
            return jsonify(status="pending"), 202
        return jsonify(status="connected", **tokens), 200

    @app.post("/v1/tokens/refresh")
    def refresh() -> tuple[Response, int]:
        status, answer = intuit.refresh(_required(_json_body(), "refresh_token"))
        return jsonify(answer), status

    @app.post("/v1/tokens/revoke")
    def revoke() -> tuple[Response, int]:
        status, answer = intuit.revoke(_required(_json_body(), "token"))
        return jsonify(answer), status

    return app


def _page_status_routes(app: Flask, sign_ins: SignIns) -> None:
    """How a redirect page's sign-in stands, by the page's opaque id: no token, no state."""

    @app.get("/sign-ins/<page_id>")
    def page_status(page_id: str) -> tuple[str, int]:
        return _status_page(page_id, sign_ins.page(page_id))

    @app.get("/v1/pages/<page_id>")
    def page_status_json(page_id: str) -> Response:
        status, title, text = _status_words(sign_ins.page(page_id))
        return jsonify(status=status, title=title, text=text)


def _guard(app: Flask, settings: ServiceSettings, buckets: TokenBuckets) -> None:
    """Rate limit, allowed origins, the request log, and refusals as plain JSON."""

    @app.before_request
    def admit() -> Response | None:
        g.started = time.monotonic()
        wait_s = buckets.take(request.remote_addr or "")
        if wait_s:
            reply = _error(429, "rate_limited", "Too many requests; try again shortly.")
            reply.headers["Retry-After"] = str(int(wait_s))
            return reply
        origin = request.headers.get("Origin", "").rstrip("/")
        if request.method == "POST" and origin and origin not in settings.allowed_origins:
            return _error(403, "origin_not_allowed", "Requests from this page are not allowed.")
        return None

    @app.after_request
    def record(reply: Response) -> Response:
        # The path only: the query of /callback holds the code. The filter masks the rest.
        log.info("%s %s %s %s %.0f ms", request.remote_addr, request.method, request.path,
                 reply.status_code, (time.monotonic() - g.get("started", time.monotonic())) * 1e3)
        reply.headers["Cache-Control"] = "no-store"
        return reply

    @app.errorhandler(SignInRefused)
    def refused(error: SignInRefused) -> Response:
        return _error(error.status, error.reason, error.message)

    @app.errorhandler(IntuitUnavailable)
    def unavailable(error: IntuitUnavailable) -> Response:
        log.warning("Intuit unavailable: %s", error)
        return _error(502, "intuit_unavailable", "QuickBooks' sign-in service could not be "
                      "reached; try again shortly.")


def _finish_sign_in(sign_in_id: str, args: Any, sign_ins: SignIns,
                    intuit: IntuitApp) -> tuple[str, int]:
    """The redirect page's work: exchange the code, hold the tokens for the app, say so."""
    code, realm_id = args.get("code", ""), args.get("realmId", "")
    if args.get("error") or not code or not realm_id:
        failure = args.get("error") or "no_code"
        sign_ins.finish(sign_in_id, failure=failure)
        return _page("Not connected", f"QuickBooks did not grant access ({escape(failure)}). "
                     "You can close this tab and try again from Connex Desktop.", 400)
    try:
        status, answer = intuit.exchange(code)
    except IntuitUnavailable as error:
        log.warning("Intuit unavailable: %s", error)
        sign_ins.finish(sign_in_id, failure="intuit_unavailable")
        return _page("Not connected", "QuickBooks' sign-in service could not be reached or "
                     "is unavailable. Close this tab and try again from Connex Desktop in a "
                     "moment.", 502)
    if status != 200 or "refresh_token" not in answer:
        failure = str(answer.get("error") or f"http_{status}")
        sign_ins.finish(sign_in_id, failure=failure)
        return _page("Not connected", f"QuickBooks refused the sign-in ({escape(failure)}). "
                     "Close this tab and try again from Connex Desktop.", 502)
    company = intuit.company_name(realm_id, str(answer.get("access_token", "")))
    page_id = sign_ins.finish(sign_in_id, tokens={
        **answer, "realm_id": realm_id, "company_name": company,
        "environment": intuit.environment})
    return _status_page(page_id, sign_ins.page(page_id))


def _status_words(page: PageStatus | None) -> tuple[str, str, str]:
    """(status, title, text) of a redirect page: Connected only once the app stored the tokens."""
    if page is None:
        return ("not_connected", "Not connected", "This sign-in is not known here any more. "
                "Look in Connex Desktop whether it is connected.")
    company = page.company or "your QuickBooks company"
    if page.status == "connected":
        return (page.status, f"Connected to {company}",
                "Connex Desktop stored the connection. You can close this tab.")
    if page.status == "not_connected":
        return (page.status, "Not connected", f"{page.reason.rstrip('.')}. Close this tab "
                "and try again from Connex Desktop.")
    return (page.status, "QuickBooks approved", f"QuickBooks approved access to {company}. "
            "Connex Desktop is finishing the connection; keep this tab open to see when it is "
            "done.")


def _status_page(page_id: str, page: PageStatus | None) -> tuple[str, int]:
    status, title, text = _status_words(page)
    if status != "finishing":
        return _page(escape(title), escape(text), 200 if page is not None else 404)
    follow = {"page": escape(url_for("page_status", page_id=page_id)),
              "status": json.dumps(url_for("page_status_json", page_id=page_id)),
              "seconds": CHECK_AGAIN_S}
    return _page(escape(title), escape(text), 200, head=FOLLOW_HEAD.format(**follow),
                 body=FOLLOW_BODY.format(**follow))


def _page(title: str, text: str, status: int, *, head: str = "",
          body: str = "") -> tuple[str, int]:
    return PAGE.format(title=title, text=text, head=head, body=body), status


def _error(status: int, reason: str, message: str) -> Response:
    reply = jsonify(error=reason, error_description=message)
    reply.status_code = status
    return reply


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise SignInRefused(400, "invalid_request", "The request needs a JSON object body.")
    return body


def _required(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise SignInRefused(400, "invalid_request", f"The request needs {name}.")
    return value
