"""The connect service on this computer: a threaded WSGI server on loopback (CLI, tests)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from werkzeug.serving import BaseWSGIServer, make_server

from connex_desktop.connect_service.app import create_app
from connex_desktop.connect_service.settings import ServiceSettings
from connex_desktop.logs import RedactingFilter

CALLBACK_PATH = "/callback"
# How often the server looks whether to stop: `stop()` (each demo's close) waits up to this.
SHUTDOWN_POLL_S = 0.05
# werkzeug logs each request line, the callback's code included: masked like every log line.
logging.getLogger("werkzeug").addFilter(RedactingFilter())


class IntuitStandIn(Protocol):
    """What plays Intuit here (the sandbox, in this process or its own): its address and the
    keys of the one app it knows."""

    @property
    def base_url(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...


class LocalConnectService:
    """Serves the connect service on `host` (port 0: a free one) until `stop()`.

    With no settings, the sandbox plays Intuit: its client id and secret are the product's, the
    redirect URI is this server's own /callback, and `overrides` change other settings.
    """

    def __init__(self, settings: ServiceSettings | None = None, *,
                 sandbox: IntuitStandIn | None = None, host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] = time.monotonic, **overrides: Any) -> None:
        self._server: BaseWSGIServer = make_server(host, port, app=None,  # type: ignore[arg-type]
                                                   threaded=True)
        if settings is None:
            if sandbox is None:
                raise ValueError("the local connect service needs settings or a sandbox")
            settings = sandbox_settings(sandbox, self.url + CALLBACK_PATH, **overrides)
        self.settings = settings
        self.app = create_app(settings, clock=clock)
        self._server.app = self.app
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        args=(SHUTDOWN_POLL_S,), name="connect-service",
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalConnectService:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __enter__(self) -> LocalConnectService:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def sandbox_settings(sandbox: IntuitStandIn, redirect_uri: str,
                     **overrides: Any) -> ServiceSettings:
    """The service's settings with the local sandbox playing Intuit."""
    settings = ServiceSettings(client_id=sandbox.client_id, client_secret=sandbox.client_secret,
                               environment=sandbox.base_url, redirect_uri=redirect_uri)
    return dataclasses.replace(settings, **overrides)
