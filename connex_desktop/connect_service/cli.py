"""`connex-desktop connect-service`: the connect service in the foreground, on this computer."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys

from connex_desktop.connect_service.local import LocalConnectService
from connex_desktop.connect_service.settings import ServiceSettings, SettingsError
from connex_desktop.logs import RedactingFilter
from connex_desktop.quickbooks.connect_client import SERVICE_ENV
from connex_desktop.sandbox.cli import until_stopped
from connex_desktop.sandbox.server import SandboxServer


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; first print one JSON line with the service's address."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:    # every line, whoever logs it, masked
        handler.addFilter(RedactingFilter())
    with contextlib.ExitStack() as stack:
        sandbox = None
        if args.sandbox:
            sandbox = stack.enter_context(SandboxServer(
                kind=args.company, multicurrency=bool(args.multicurrency)))
            settings = None
        else:
            try:
                settings = ServiceSettings.from_environment()
            except SettingsError as error:
                print(f"connex-desktop connect-service: {error}", file=sys.stderr)
                return 2
        service = stack.enter_context(LocalConnectService(
            settings, sandbox=sandbox, host=args.host, port=args.port))
        print(json.dumps({"service_url": service.url,
                          "redirect_uri": service.settings.redirect_uri,
                          "environment": service.settings.environment,
                          "use_with": f"{SERVICE_ENV}={service.url}"}), flush=True)
        with until_stopped() as stopping:
            while not stopping.wait(0.5):
                pass
    print("connect service stopped", file=sys.stderr)
    return 0
