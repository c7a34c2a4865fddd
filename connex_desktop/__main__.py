"""Entry point: `connex-desktop` opens the window; its subcommands run headless."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from connex_desktop import __version__
from connex_desktop.core.connection import DesktopTransport, QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.rule_cli import add_rule_parser
from connex_desktop.sandbox.kinds import DEFAULT_KIND, KINDS

MEASURE_STARTUP_ENV = "CONNEX_MEASURE_STARTUP"
# The self-check sets up its own log once it knows the data folder works; the sandbox is a
# development tool with no data folder of its own, and the connect service a server of its own.
OWN_LOGGING = frozenset({"self-check", "sandbox", "connect-service"})
# Each command's handler is imported only when it runs, so `sync` never loads Qt and the
# window never waits for the sandbox's imports.
HANDLERS = {
    "gui": "connex_desktop.ui.application:run",
    "sandbox": "connex_desktop.sandbox.cli:run",
    "connect-service": "connex_desktop.connect_service.cli:run",
    "demo": "connex_desktop.commands:demo",
    "connection": "connex_desktop.commands:connection",
    "qb": "connex_desktop.commands:qb",
    "sync": "connex_desktop.commands:sync",
    "history": "connex_desktop.commands:history",
    "undo": "connex_desktop.commands:undo",
    "self-check": "connex_desktop.selfcheck:run",
}


SYNC_DESCRIPTION = (
    "A plain sync is incremental: it reads the orders changed in the store since the last "
    "successful sync, less an hour (the ledger keeps an order read twice from being booked "
    "twice), and tries again the orders that failed before. --since and --until pick orders by "
    "the day they were created instead (in the store's time zone), and leave where the next "
    "plain sync starts unchanged; so do --order and --retry-failed. "
    "Exit 0: all synced; 1: some orders failed, or the store or QuickBooks could not be "
    "reached (try again later); 2: usage, setup or authorisation.")


class _StoreHelpParser(argparse.ArgumentParser):
    """A parser whose help can list every store kind's settings, secrets and statuses, read
    from the connectors themselves only when the help is shown (they are slow to import)."""

    def __init__(self, *args: Any, lists_stores: bool = False, **kwargs: Any) -> None:
        if lists_stores:
            kwargs["formatter_class"] = argparse.RawDescriptionHelpFormatter
        super().__init__(*args, **kwargs)
        self.lists_stores = lists_stores

    def format_help(self) -> str:
        if self.lists_stores:
            from connex_desktop.commands import stores_help

            self.epilog = stores_help()
        return super().format_help()


def _connection_options(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument("--source", required=creating, metavar="KIND",
                        help="the kind of store (listed below, with their settings)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        dest="settings", help="a store setting (repeat)")
    parser.add_argument("--secret", action="append", default=[], metavar="KEY",
                        help="a secret store setting, read as one line from standard input")
    parser.add_argument("--mode", required=creating, choices=[m.value for m in TransactionMode])
    parser.add_argument("--status", action="append", default=None, dest="statuses",
                        help="an order status to sync (repeat; none means all; the values of "
                             "each store are listed below)")
    numbering = parser.add_mutually_exclusive_group()
    numbering.add_argument("--use-qb-numbering", action="store_true", default=None)
    numbering.add_argument("--use-order-numbers", action="store_false", dest="use_qb_numbering")
    parser.add_argument("--prefix", default=None, help="prefix for document numbers")
    purchases = parser.add_mutually_exclusive_group()
    purchases.add_argument("--sync-purchase-orders", action="store_true", default=None,
                           help="also book the store's own purchase orders (Linnworks, "
                                "SkuVault) as QuickBooks purchase orders")
    purchases.add_argument("--no-sync-purchase-orders", action="store_false",
                           dest="sync_purchase_orders")
    parser.add_argument("--map", action="append", default=[], metavar="KEY=VALUE",
                        dest="mapping", help="a mapping choice, e.g. customer_policy=generic")
    parser.add_argument("--every-minutes", type=int, default=None,
                        help="sync automatically every N minutes (0: off)")
    parser.add_argument("--quickbooks", choices=[p.value for p in QuickBooksProduct],
                        default=None, help="QuickBooks Online (the default) or Desktop")
    parser.add_argument("--company-file", default=None, metavar="PATH",
                        help="QuickBooks Desktop: the company file (.qbw); blank: the one open")
    parser.add_argument("--transport", choices=[t.value for t in DesktopTransport], default=None,
                        help="QuickBooks Desktop: through the Web Connector (the default; "
                             "QuickBooks may run on another computer) or on this computer")
    parser.add_argument("--daily-at", default=None, metavar="HH:MM",
                        help="sync automatically once a day at this time")


def _company_options(parser: argparse.ArgumentParser, *, default: str | None) -> None:
    parser.add_argument("--company", choices=list(KINDS), default=default,
                        help="the kind of QuickBooks company: us (legacy sales tax, the "
                        "default), us-ast (automated sales tax), uk (VAT), ca (GST/HST), au (GST)")
    parser.add_argument("--multicurrency", action="store_true", default=None,
                        help="turn multicurrency on (home currency from the company's country)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connex-desktop",
        description="Books the orders of online stores into QuickBooks, exactly once.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="keep all state under DIR (also $CONNEX_DESKTOP_HOME)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log in more detail (and, for commands, to standard error too)")
    parser.add_argument("--demo", action="store_true",
                        help="open the window with the demo connection and a local sandbox")
    parser.add_argument("--self-check", action="store_true",
                        help="check this installation end to end and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_server_commands(commands)
    _add_connection_commands(commands)
    _add_sync_commands(commands)
    return parser


def _add_server_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The local sandbox, the connect service and the demo."""
    sandbox = commands.add_parser("sandbox", help="run the local QuickBooks Online sandbox")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=0, help="0 picks a free port")
    sandbox.add_argument("--db", metavar="FILE", help="persist the company to this SQLite file")
    sandbox.add_argument("--latency-ms", type=int, default=0)
    sandbox.add_argument("--fail-rate", type=float, default=0.0)
    sandbox.add_argument("--no-rate-limits", action="store_true")
    sandbox.add_argument("--read-quota", type=int, default=None, metavar="N",
                         help="answer metered reads with 429 once N were made this month")
    sandbox.add_argument("--stop-on-stdin-eof", action="store_true",
                         help="stop when standard input closes (run by the app, which holds it)")
    _company_options(sandbox, default=DEFAULT_KIND)

    service = commands.add_parser(
        "connect-service", help="run the connect service (Intuit sign-in without keys)",
        description="Serves the connect service, which holds an Intuit app's client id and "
                    "secret and signs the desktop app in through the browser. Its settings come "
                    "from CONNEX_CONNECT_* variables (README, 'Run your own connect service'); "
                    "with --sandbox, an in-process sandbox plays Intuit instead. Needs the "
                    "connect-service extra (Flask).")
    service.add_argument("--host", default="127.0.0.1")
    service.add_argument("--port", type=int, default=0, help="0 picks a free port")
    service.add_argument("--sandbox", action="store_true",
                         help="play Intuit with a local sandbox (its keys, no variables needed)")
    _company_options(service, default=DEFAULT_KIND)

    demo = commands.add_parser("demo", help="sync the demo store into a local sandbox")
    demo.add_argument("--orders", type=int, default=None, help="how many demo orders")
    demo.add_argument("--mode", choices=[m.value for m in TransactionMode], default=None,
                      help="book the demo as this transaction type (kept for later runs; "
                      "first run: invoices-with-payments)")
    demo.add_argument("--store", choices=("web", "pos"), default="web",
                      help="the online shop (web), or a shop with a point of sale that keeps its "
                           "own supplier purchase orders (pos)")
    demo.add_argument("--json", action="store_true")
    demo.add_argument("--quickbooks", choices=[p.value for p in QuickBooksProduct],
                      default=QuickBooksProduct.ONLINE.value,
                      help="book into QuickBooks Online (a local sandbox, the default) or "
                           "QuickBooks Desktop (a company file in this process, through a "
                           "scripted Web Connector)")
    _company_options(demo, default=None)  # None: the kind the demo used last


def _add_connection_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Connections to stores and their QuickBooks companies."""
    connection = commands.add_parser("connection", help="add, change, list or remove connections")
    actions = connection.add_subparsers(dest="action", metavar="ACTION", required=True,
                                        parser_class=_StoreHelpParser)
    add = actions.add_parser("add", help="add a connection", lists_stores=True)
    add.add_argument("name")
    _connection_options(add, creating=True)
    change = actions.add_parser("set", help="change a connection", lists_stores=True)
    change.add_argument("name")
    _connection_options(change, creating=False)
    change.add_argument("--new-store", action="store_true",
                        help="the connection now reads a different store: book its orders as "
                             "new from the next sync (without it, a moved order file or a "
                             "changed address stays the same store, and nothing is booked twice)")
    actions.add_parser("list").add_argument("--json", action="store_true")
    show = actions.add_parser("show")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    actions.add_parser("remove").add_argument("name")
    add_rule_parser(actions)

    qb = commands.add_parser("qb", help="connect a connection to a QuickBooks company")
    qb_actions = qb.add_subparsers(dest="action", metavar="ACTION", required=True)
    connect = qb_actions.add_parser(
        "connect", description="Without --client-id, signs in through the connect service: "
        "prints a link to open in a browser and finishes by itself once access is allowed "
        "(--service, else CONNEX_CONNECT_SERVICE, else the one remembered, else the built-in "
        "one). With --client-id, your own Intuit app's "
        "keys: --environment, then the client secret asked for, or --token-stdin.")
    connect.add_argument("name")
    connect.add_argument("--service", metavar="URL",
                         help="the connect service to sign in through (remembered for later "
                              "sign-ins in this data folder)")
    connect.add_argument("--client-id", help="your own Intuit app's client id (advanced)")
    connect.add_argument("--environment",
                         help="with --client-id: production, sandbox, or a custom base URL")
    connect.add_argument("--realm-id")
    connect.add_argument("--token-stdin", action="store_true",
                         help="with --client-id: read the client secret and a refresh token "
                              "from standard input")
    qb_actions.add_parser("disconnect").add_argument("name")
    web_connector = qb_actions.add_parser(
        "web-connector", help="QuickBooks Desktop: the Web Connector's .qwc file and password")
    web_connector.add_argument("name")
    web_connector.add_argument("--qwc", metavar="PATH", default=None,
                               help="write the connection's .qwc file here (a file or folder)")
    web_connector.add_argument("--show-password", action="store_true",
                               help="print the password to type into the Web Connector")


def _add_sync_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Syncing, the history of runs and undoing one."""
    sync = commands.add_parser("sync", help="book orders into QuickBooks",
                               description=SYNC_DESCRIPTION)
    sync.add_argument("names", nargs="*", metavar="NAME")
    sync.add_argument("--all", action="store_true", help="sync every connection")
    sync.add_argument("--since", metavar="DATE", help="orders created on or after DATE")
    sync.add_argument("--until", metavar="DATE", help="orders created on or before DATE")
    sync.add_argument("--order", action="append", default=[], dest="orders", metavar="NUMBER",
                      help="just this order (repeat for more)")
    sync.add_argument("--retry-failed", action="store_true",
                      help="sync only the orders that failed before")
    sync.add_argument("--dry-run", action="store_true",
                      help="show what would be booked; write nothing")
    sync.add_argument("--json", action="store_true", help="print one JSON object per connection")

    history = commands.add_parser("history", help="past runs and what they booked")
    history.add_argument("name")
    history.add_argument("--json", action="store_true")

    undo = commands.add_parser(
        "undo", help="delete from QuickBooks what one sync run booked",
        description="Deletes from QuickBooks the documents a sync run booked (run ids: "
                    "`connex-desktop history NAME`): payments first, so invoice balances are "
                    "restored, then invoices, sales receipts and purchase orders, then "
                    "sales orders (estimates in QuickBooks Online). Documents are deleted, "
                    "not voided: a voided document keeps its number, and QuickBooks would "
                    "refuse to book the order again under it "
                    "(error 6140). A document changed in QuickBooks since it was booked (e.g. "
                    "an invoice paid there by hand) is kept, with its whole order, and the "
                    "reason is shown. Afterwards a sync books the run's orders again. "
                    "Exit 0: all undone; 1: some documents are still in QuickBooks; "
                    "2: usage, setup or authorisation.")
    undo.add_argument("run_id", type=int, metavar="RUN_ID")
    undo.add_argument("--dry-run", action="store_true",
                      help="list what would be deleted and delete nothing")
    undo.add_argument("--json", action="store_true")


def _handler(command: str) -> Callable[[argparse.Namespace], int]:
    module, _, function = HANDLERS[command].partition(":")
    return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    started_s = time.perf_counter()
    args = build_parser().parse_args(argv)
    command = "self-check" if args.self_check else args.command or "gui"
    if command == "gui" and os.environ.get(MEASURE_STARTUP_ENV) == "1":
        # The start-up benchmark: quit once the window is first painted (tests/bench).
        from connex_desktop.ui.probe import quit_when_first_window_shown

        quit_when_first_window_shown(started_s)
    if command in OWN_LOGGING:
        return _handler(command)(args)
    from connex_desktop.logs import start_app_logging, stop_logging

    start_app_logging(args.data_dir, verbose=args.verbose, console=command != "gui")
    log = logging.getLogger("connex_desktop")
    log.info("connex-desktop %s: %s %s", __version__, command, getattr(args, "action", "") or "")
    try:
        return _handler(command)(args)
    except BaseException as error:
        if not isinstance(error, SystemExit | KeyboardInterrupt):
            log.exception("connex-desktop %s stopped on an unexpected error", command)
        raise
    finally:
        stop_logging()


if __name__ == "__main__":
    sys.exit(main())
