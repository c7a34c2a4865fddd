"""The headless commands: connections, QuickBooks, sync, history, undo, demo. Exit 0 / 1 / 2."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import functools
import json
import logging
import shlex
import signal
import sys
import textwrap
import typing
import webbrowser
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import Any

from connex_desktop import desktop_cli
from connex_desktop.app import (
    DEMO_CONNECTION_NAME,
    SOURCE_KINDS,
    App,
    build_app,
)
from connex_desktop.connections import (
    ConnectionProblems,
    MissingSetting,
    chosen_company,
    quickbooks_key_prefix,
    store_secret_names,
)
from connex_desktop.core.app_settings import CONNECT_SERVICE_URL
from connex_desktop.core.connection import (
    Connection,
    DesktopTransport,
    QuickBooksCompany,
    QuickBooksMapping,
    QuickBooksProduct,
    Schedule,
)
from connex_desktop.core.errors import ConnexError, ErrorKind
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import money_text
from connex_desktop.core.progress import UNTIL_ANSWERED, CancelToken, Progress, pause_line
from connex_desktop.core.result import RunStatus, RunTrigger, SyncResult
from connex_desktop.core.rules import describe
from connex_desktop.core.secret_store import SecretStore
from connex_desktop.core.token_life import RECONNECT_WORDS, reconnect_warning
from connex_desktop.core.undo_result import UNDO_WORDS, UndoResult, UndoStatus
from connex_desktop.quickbooks.auth import (
    authorization_url,
    exchange_code,
    new_state,
    parse_callback,
    save_credentials,
)
from connex_desktop.quickbooks.connect_client import (
    ConnectClient,
    PendingSignIn,
    SignedIn,
    service_url,
)
from connex_desktop.rule_commands import connection_rule
from connex_desktop.sources.base import FieldKind, OrderQuery, Source
from connex_desktop.sources.demo_store import only_planted_failures, planted_failures
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.storage.repositories import to_plain

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2     # usage, configuration or authorisation
# A run failed for these only has to wait (QuickBooks busy or unreachable, or its monthly
# allowance of reads used up): exit 1 like failed orders, not 2 like a setup to fix.
_WAIT_KINDS = frozenset({ErrorKind.RETRY_LATER, ErrorKind.QUOTA})
# A wait this long gets a line of its own on standard error: shorter ones pass unremarked.
WAIT_WORTH_A_LINE_S = 5.0


class UsageError(ConnexError):
    kind = ErrorKind.FIX_SETUP


# ---- entry points (HANDLERS in __main__) -------------------------------------------------

def demo(args: argparse.Namespace) -> int:
    with _app(args) as app:
        mode = TransactionMode(args.mode) if args.mode else None
        if args.quickbooks == QuickBooksProduct.DESKTOP:
            return _desktop_demo(app, args, mode)
        connection = app.start_demo(orders=args.orders, mode=mode, company_kind=args.company,
                                    multicurrency=args.multicurrency, store=args.store)
        if not args.json:
            print(f"Demo: {connection.quickbooks.company_name} (sandbox at "
                  f"{connection.quickbooks.environment}), mode "
                  f"{connection.mode_info.label}.", flush=True)
        result = _run(app, connection, query=None, dry_run=False, trigger=RunTrigger.DEMO,
                      retry_failed=False, quiet=args.json)
        _print_results([(connection, result)], as_json=args.json)
        planted = planted_failures(result)
        if planted and not args.json:
            print(_planted_note(planted, args.data_dir))
        # The failures the demo plants are the demo going as intended.
        return EXIT_OK if only_planted_failures(result) else _exit_code([result])


def _desktop_demo(app: App, args: argparse.Namespace, mode: TransactionMode | None) -> int:
    from connex_desktop import desktop_demo

    demo = desktop_demo.start_desktop_demo(app, orders=args.orders, mode=mode,
                                           multicurrency=bool(args.multicurrency))
    try:
        if not args.json:
            print(f"Demo: {demo.connection.quickbooks.company_name}, a company file in this "
                  "process, reached through the QuickBooks Web Connector (a scripted one); mode "
                  f"{demo.connection.mode_info.label}.", flush=True)
        result = _run(app, demo.connection, query=None, dry_run=False,
                      trigger=RunTrigger.DEMO, retry_failed=False, quiet=args.json)
    finally:
        demo.close()
    _print_results([(demo.connection, result)], as_json=args.json)
    if not args.json:
        print(desktop_demo.desktop_demo_note())
    return _exit_code([result])


def _planted_note(planted: Sequence[str], data_dir: str | None) -> str:
    """What the demo's planted failures show, and the commands that book those orders."""
    # As it was started (scripts/demo runs .venv/bin/connex-desktop), so the lines can be pasted.
    program = sys.argv[0] if Path(sys.argv[0]).name == "connex-desktop" else "connex-desktop"
    command = shlex.quote(program) + (f" --data-dir {shlex.quote(data_dir)}" if data_dir else "")
    name = shlex.quote(DEMO_CONNECTION_NAME)
    orders = "order" if len(planted) == 1 else "orders"
    return textwrap.dedent(f"""
        The {len(planted)} failed {orders} above were planted by the demo, to show how a failure
        is reported: its marketplace orders (numbers like {planted[0]}) are longer
        than the 21 characters QuickBooks allows for a document number. Each is listed with its
        reason and what to do, as the sync log in the window shows it; nothing else went wrong.
        To book them, let QuickBooks number the documents, then retry the failed orders:
          {command} connection set {name} --use-qb-numbering
          {command} sync {name} --retry-failed""")


def connection(args: argparse.Namespace) -> int:
    with _app(args) as app:
        action: Callable[[App, argparse.Namespace], int] = {
            "add": _connection_add, "set": _connection_set, "list": _connection_list,
            "show": _connection_show, "remove": _connection_remove,
            "rule": connection_rule}[args.action]
        return action(app, args)


def qb(args: argparse.Namespace) -> int:
    with _app(args) as app:
        if args.action == "disconnect":
            return _qb_disconnect(app, args)
        if args.action == "web-connector":
            return _qb_web_connector(app, args)
        return _qb_connect(app, args)


def sync(args: argparse.Namespace) -> int:
    with _app(args) as app:
        if args.all and args.names:
            raise UsageError("Name connections or use --all, not both.")
        if not args.all and not args.names:
            raise UsageError("Name the connections to sync, or use --all.")
        connections = [
            app.with_demo_running(conn) for conn in (app.connections.list() if args.all else [
                app.connections.get(name) for name in args.names])]
        query = _query(args)
        results = [_run(app, conn, query=query, dry_run=args.dry_run,
                        trigger=RunTrigger.RETRY if args.retry_failed else RunTrigger.CLI,
                        retry_failed=args.retry_failed, quiet=args.json)
                   for conn in connections]
        _print_results(list(zip(connections, results, strict=True)), as_json=args.json)
        return _exit_code(results)


def history(args: argparse.Namespace) -> int:
    with _app(args) as app:
        conn = app.connections.get(args.name)
        assert conn.id is not None
        runs = app.runs.list(conn.id)
        if args.json:
            print(json.dumps({"connection": conn.name, "runs": [
                {"run_id": run.id, "trigger": run.trigger.value, "dry_run": run.dry_run,
                 "status": run.status, "started_at": run.started_at.isoformat(),
                 "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                 "orders": {"fetched": run.fetched, "synced": run.synced,
                            "skipped": run.skipped, "failed": run.failed},
                 "message": run.message,
                 "quickbooks": run.quickbooks.as_json() if run.quickbooks else None,
                 "undone_at": run.undone_at.isoformat() if run.undone_at else None,
                 "undo_message": run.undo_message,
                 "order_outcomes": [
                     {"order": order.order_number, "item": order.item,
                      "outcome": order.outcome.value,
                      "message": order.message, "detail": order.detail,
                      "documents": [_document_json(doc) for doc in order.documents]}
                     for order in app.runs.orders(run.id)]}
                for run in runs]}, indent=2))
            return EXIT_OK
        if not runs:
            print(f"{conn.name}: no syncs yet.")
            return EXIT_OK
        print(f"{conn.name}: {len(runs)} sync{'s' if len(runs) != 1 else ''}, newest first")
        for run in runs:
            dry = " (dry run)" if run.dry_run else ""
            print(f"  #{run.id} {run.started_at:%Y-%m-%d %H:%M} {run.trigger.value}{dry}: "
                  f"{run.status} — {run.fetched} fetched, {run.synced} synced, "
                  f"{run.skipped} skipped, {run.failed} failed")
            if run.message:
                print(f"      {run.message}")
            if run.undo_message:
                print(f"      {run.undo_message}")
            for order in app.runs.orders(run.id):
                if order.outcome.value == "failed":
                    print(f"      order {order.order_number} failed: {order.message}")
        return EXIT_OK


def undo(args: argparse.Namespace) -> int:
    with _app(args) as app:
        undoer = app.undoer()
        _run_record, conn = undoer.check(args.run_id)
        app.with_demo_running(conn)   # a demo's company runs while this command does
        result = undoer.undo(args.run_id, dry_run=args.dry_run)
        if args.json:
            print(json.dumps(undo_json(result)))
        else:
            _print_undo(result, conn.quickbooks.product)
        if result.status is UndoStatus.FAILED:
            return EXIT_SOME_FAILED if result.failure_kind in _WAIT_KINDS else (
                EXIT_USAGE)
        return EXIT_SOME_FAILED if result.status is UndoStatus.PARTIAL else EXIT_OK


def undo_json(result: UndoResult) -> dict[str, Any]:
    return {
        "connection": result.connection,
        "run_id": result.run_id,
        "dry_run": result.dry_run,
        "status": result.status.value,
        "message": result.message,
        "documents": [{"order": doc.order, "kind": doc.kind.value, "qb_id": doc.qb_id,
                       "doc_number": doc.doc_number, "total": str(doc.total),
                       "outcome": doc.outcome.value, "reason": doc.reason}
                      for doc in result.documents],
    }


def _print_undo(result: UndoResult, product: QuickBooksProduct) -> None:
    dry = " (dry run: nothing was deleted)" if result.dry_run else ""
    counts = ", ".join(f"{result.count(outcome)} {words}"
                       for outcome, words in UNDO_WORDS.items() if result.count(outcome))
    print(f"{result.connection}: undo of run #{result.run_id} {result.status.value}{dry}"
          + (f" — {counts}" if counts else ""))
    if result.message:
        print(f"  {result.message}")
    for doc in result.documents:
        reason = f" — {doc.reason}" if doc.reason else ""
        print(f"  {UNDO_WORDS[doc.outcome]} {doc.label_in(product)} of order {doc.order}: "
              f"{money_text(doc.total)}{reason}")


# ---- shared machinery --------------------------------------------------------------------

@contextmanager
def _app(args: argparse.Namespace) -> Iterator[App]:
    """Build the app, and turn plain-words errors into a message and exit code 2."""
    app: App | None = None
    try:
        app = build_app(getattr(args, "data_dir", None))
        app.web_connector_started = desktop_cli.say_waiting   # syncs and undos wait for it
        yield app
    except ConnexError as error:
        log.warning("%s: %s", args.command, error)
        print(f"connex-desktop: {error}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE) from None
    finally:
        if app is not None:
            app.close()


def _run(app: App, conn: Connection, *, query: OrderQuery | None, dry_run: bool,
         trigger: RunTrigger, retry_failed: bool, quiet: bool) -> SyncResult:
    cancel = CancelToken()
    previous = signal.getsignal(signal.SIGINT)

    def stop(_signum: int, _frame: object) -> None:
        # Finish the write in flight, record everything, then stop: the next sync resumes.
        cancel.cancel()

    try:
        signal.signal(signal.SIGINT, stop)
    except ValueError:  # not the main thread (e.g. called from tests in a thread)
        previous = None

    counting = not quiet and sys.stderr.isatty()
    told_pause = (0.0, "")

    def progress(snapshot: Progress) -> None:
        nonlocal told_pause
        pause = (snapshot.pause_s, snapshot.paused_for)
        if pause != told_pause:     # a wait begun or ended; a long one is said on its own line
            told_pause = pause
            # A wait with no set end (the Web Connector's) was said, with its address, as the
            # service started (desktop_cli.say_waiting).
            if WAIT_WORTH_A_LINE_S <= snapshot.pause_s < UNTIL_ANSWERED:
                line = pause_line(snapshot.paused_for, snapshot.pause_s)
                print(f"\n{line}" if counting else line, file=sys.stderr, flush=True)
        if counting:
            print(f"\r{conn.name}: {snapshot.fetched} fetched, {snapshot.booked} synced, "
                  f"{snapshot.skipped} skipped, {snapshot.failed} failed", end="",
                  file=sys.stderr, flush=True)

    try:
        return app.engine().run(conn, progress=progress, cancel=cancel, query=query,
                                dry_run=dry_run, trigger=trigger,
                                retry_failed=retry_failed)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if counting:
            print(file=sys.stderr)


def _query(args: argparse.Namespace) -> OrderQuery | None:
    since = _date(args.since, "--since") if args.since else None
    until = _date(args.until, "--until") if args.until else None
    if since and until and since > until:
        raise UsageError("--since is after --until.")
    if not (since or until or args.orders):
        return None
    return OrderQuery(created_from=since, created_to=until, numbers=tuple(args.orders))


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise UsageError(f"{option} takes a date like 2025-06-01, not {text!r}.") from None


def _exit_code(results: Sequence[SyncResult]) -> int:
    """2 when a run could not start for its setup or authorisation, 1 when orders (or a whole
    run, e.g. QuickBooks unreachable or its reads used up) failed or it was cancelled, else 0."""
    if any(result.status is RunStatus.FAILED
           and result.failure_kind not in _WAIT_KINDS for result in results):
        return EXIT_USAGE
    if any(result.failed or result.status in (RunStatus.FAILED, RunStatus.CANCELLED)
           for result in results):
        return EXIT_SOME_FAILED
    return EXIT_OK


def result_json(result: SyncResult) -> dict[str, Any]:
    """The `sync --json` object: the run's counts, documents, errors and QuickBooks usage."""
    errors = [{"order": error.order, "message": error.message} for error in result.errors]
    if result.message and result.status is RunStatus.FAILED:
        errors.insert(0, {"order": "", "message": result.message})
    return {
        "connection": result.connection,
        "run_id": result.run_id,
        "status": result.status.value,
        "orders": {"fetched": result.fetched, "synced": result.synced,
                   "skipped": result.skipped, "failed": result.failed},
        "documents": [{"order": doc.order, "kind": doc.kind.value, "qb_id": doc.qb_id,
                       "doc_number": doc.doc_number, "total": str(doc.total)}
                      for doc in result.documents],
        "errors": errors,
        "rules": result.rules,
        "quickbooks": result.quickbooks.as_json(),
    }


def _document_json(doc: Any) -> dict[str, str]:
    return {"kind": doc.kind.value, "qb_id": doc.qb_id, "doc_number": doc.doc_number,
            "total": str(doc.total)}


def _print_results(runs: Sequence[tuple[Connection, SyncResult]], *, as_json: bool) -> None:
    """Each run's result, its documents named as the connection's QuickBooks names them."""
    if as_json:
        for _conn, result in runs:
            print(json.dumps(result_json(result)))
        return
    for conn, result in runs:
        dry = " (dry run: nothing was written)" if result.dry_run else ""
        print(f"{result.connection}: {result.status.value}{dry} — {result.fetched} fetched, "
              f"{result.synced} {'planned' if result.dry_run else 'synced'}, "
              f"{result.skipped} skipped, {result.failed} failed")
        if result.message:
            print(f"  {result.message}")
        verb = "would book" if result.dry_run else "booked"
        for doc in result.documents:
            number = doc.doc_number or (f"(Id {doc.qb_id})" if doc.qb_id else "")
            rule = result.rules.get(doc.order)
            label = doc.kind.label_in(conn.quickbooks.product)
            print(f"  {verb} {label} {number} for order {doc.order}"
                  f"{f' (rule {rule!r})' if rule else ''}: {money_text(doc.total)}")
        if result.created:
            words = "would create" if result.dry_run else "created"
            print(f"  {words}: {', '.join(result.created)}")
        for error in result.errors:
            print(f"  order {error.order}: {error.message}")


# ---- connections -------------------------------------------------------------------------

HELP_WIDTH = 100
OPTION_WIDTH = 30


def stores_help() -> str:
    """`connection add --help`'s list of the store kinds: each one's settings and secrets (with
    the options that set them), its order statuses, and which of them are booked."""
    parts = ["Stores (--source KIND), with their settings and order statuses:"]
    parts.extend(_store_help(kind) for kind in SOURCE_KINDS.values())
    parts.append(_wrapped(
        "Orders of every other status are booked (a sales-receipts connection books only "
        "orders paid in full), and an order cancelled before it was booked never is. --status "
        "limits a connection to the statuses named. Secrets are read from standard input, one "
        "line each, so they stay out of the shell's history. Orders are booked on their day "
        "in the store's time zone (a blank timezone setting means this computer's)."))
    return "\n\n".join(parts)


def _store_help(kind: type[Source]) -> str:
    lines = [f"{kind.kind}: {kind.label}"]
    for setting in kind.settings_fields:
        need = "required" if setting.required else (
            f"optional, default {setting.default}" if setting.default else "optional")
        about = f"{need}. {setting.label}" + (f": {setting.help}" if setting.help else ".")
        lines.append(_wrapped(about, head=f"  {setting.cli_option:<{OPTION_WIDTH - 3}} "))
    if kind.statuses:
        lines.append(_wrapped(", ".join(kind.statuses), head="  --status values: "))
    if kind.skipped_statuses():
        lines.append(_wrapped(", ".join(kind.skipped_statuses()),
                              head="  skipped as no sale unless booked before: "))
    if kind.unfinished_statuses:
        lines.append(_wrapped(", ".join(kind.unfinished_statuses),
                              head="  unfinished checkouts, read only when named by --status: "))
    return "\n".join(lines)


def _wrapped(text: str, *, head: str = "") -> str:
    return textwrap.fill(text, HELP_WIDTH, initial_indent=head, break_on_hyphens=False,
                         subsequent_indent=" " * min(len(head), OPTION_WIDTH))

def _source_kind(app: App, kind: str) -> type[Source]:
    found = app.source_kinds.get(kind)
    if found is None:
        known = ", ".join(sorted(app.source_kinds))
        raise UsageError(f"Unknown store kind {kind!r}; choose one of: {known}.")
    return found


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} takes KEY=VALUE, not {value!r}.")
        pairs[key.strip()] = text
    return pairs


def _settings(kind: type[Source], values: Sequence[str]) -> dict[str, str]:
    fields = {setting.name: setting for setting in kind.settings_fields}
    settings = _pairs(values, "--set")
    for key in settings:
        if key not in fields:
            known = ", ".join(fields) or "none"
            raise UsageError(f"The {kind.label} store has no setting {key!r} (settings: {known}).")
        if fields[key].secret:
            raise UsageError(f"{key!r} is a secret: pass --secret {key} and type it on standard "
                             "input, so it stays out of your shell history.")
        if fields[key].kind is FieldKind.PATH and settings[key].strip():
            # A relative path would name another file when run from another folder.
            settings[key] = str(Path(settings[key].strip()).expanduser().resolve())
    return settings


def _mapping(current: QuickBooksMapping, values: Sequence[str]) -> QuickBooksMapping:
    changes: dict[str, Any] = {}
    hints = typing.get_type_hints(QuickBooksMapping)
    fields = {field.name for field in dataclasses.fields(QuickBooksMapping)}
    for key, text in _pairs(values, "--map").items():
        name = key.replace("-", "_")
        if name not in fields:
            choices = ", ".join(sorted(fields))
            raise UsageError(f"No mapping choice {key!r}; choose from: {choices}.")
        hint = hints[name]
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            try:
                changes[name] = hint(text)
            except ValueError:
                choices = ", ".join(member.value for member in hint)
                raise UsageError(f"--map {key} takes one of: {choices}.") from None
        elif typing.get_origin(hint) is dict:
            # "tax_codes=20=20.0% S; 0=Exempt": the whole table; empty clears it.
            table = _pairs([part for part in text.split(";") if part.strip()], f"--map {key}")
            changes[name] = {rate: code.strip() for rate, code in table.items()}
        else:
            changes[name] = text
    return dataclasses.replace(current, **changes)


def _read_secrets(names: Sequence[str], kind: type[Source]) -> dict[str, str]:
    fields = {setting.name: setting for setting in kind.settings_fields if setting.secret}
    values: dict[str, str] = {}
    for name in names:
        if name not in fields:
            known = ", ".join(fields) or "none"
            raise UsageError(f"The {kind.label} store has no secret {name!r} (secrets: {known}).")
        line = sys.stdin.readline()
        if not line.strip():
            raise UsageError(f"Expected the value of {name!r} as one line on standard input.")
        values[name] = line.rstrip("\r\n")
    return values


def _apply(conn: Connection, args: argparse.Namespace, kind: type[Source]) -> Connection:
    changes: dict[str, Any] = {}
    if args.mode:
        changes["mode"] = TransactionMode(args.mode)
    if args.settings:
        changes["source_settings"] = kind.normalized_settings(
            {**conn.source_settings, **_settings(kind, args.settings)})
    if args.statuses is not None:
        changes["statuses"] = tuple(status.strip() for status in args.statuses if status.strip())
    if args.use_qb_numbering is not None:
        changes["use_qb_numbering"] = args.use_qb_numbering
    if args.prefix is not None:
        changes["prefix"] = args.prefix
    if args.sync_purchase_orders is not None:
        changes["sync_purchase_orders"] = args.sync_purchase_orders
    if args.mapping:
        changes["mapping"] = _mapping(conn.mapping, args.mapping)
    if args.every_minutes is not None or args.daily_at is not None:
        every = args.every_minutes if args.every_minutes is not None else (
            conn.schedule.every_minutes)
        daily = args.daily_at if args.daily_at is not None else conn.schedule.daily_at
        changes["schedule"] = Schedule(every_minutes=max(every, 0), daily_at=daily)
    if args.quickbooks or args.company_file is not None or args.transport:
        changes["quickbooks"] = chosen_company(conn.quickbooks, args.quickbooks,
                                                args.company_file, args.transport)
    return dataclasses.replace(conn, **changes)


def _saved(kind: type[Source], save: Callable[[], Connection]) -> Connection:
    """`save()`'s connection; missing store settings are named by the options that set them."""
    try:
        return save()
    except ConnectionProblems as error:
        if not isinstance(error.problems[0], MissingSetting):
            raise
        missing = [problem.setting for problem in error.problems
                   if isinstance(problem, MissingSetting)]
        needed = " and ".join(f"{setting.cli_option} ({setting.label})" for setting in missing)
        raise UsageError(f"The {kind.label} store needs {needed}; `connex-desktop connection "
                         "add --help` lists every store's settings.") from None


def _connection_add(app: App, args: argparse.Namespace) -> int:
    kind = _source_kind(app, args.source)
    secrets = _read_secrets(args.secret, kind)
    draft = Connection(name=args.name, source_kind=kind.kind, mode=TransactionMode(args.mode))
    draft = _apply(draft, args, kind)
    conn = _saved(kind, lambda: app.connection_service().add(draft, secrets))
    print(f"Added the connection {conn.name!r} ({kind.label}, {conn.mode_info.label}).")
    if conn.quickbooks.product is QuickBooksProduct.DESKTOP:
        _desktop_next(app, conn)
    else:
        print(f"Next: connex-desktop qb connect {_shell_word(conn.name)} ...")
    return EXIT_OK


def _desktop_next(app: App, conn: Connection) -> None:
    """A QuickBooks Desktop connection through the Web Connector gets its password once."""
    assert conn.id is not None
    if conn.quickbooks.desktop_transport is not DesktopTransport.WEB_CONNECTOR:
        return
    service = app.connection_service()
    if not service.web_connector_password(conn.id, create=False):
        service.web_connector_password(conn.id)
        name = _shell_word(conn.name)
        print("Next: add its .qwc file to the QuickBooks Web Connector and type its password "
              "there (kept in the keyring only):\n"
              f"  connex-desktop qb web-connector {name} --qwc FOLDER --show-password")


def _connection_set(app: App, args: argparse.Namespace) -> int:
    conn = app.connections.get(args.name)
    kind = _source_kind(app, args.source or conn.source_kind)
    secrets = _read_secrets(args.secret, kind)
    if args.source:
        conn = dataclasses.replace(conn, source_kind=kind.kind)
    changed = _apply(conn, args, kind)
    conn = _saved(kind, lambda: app.connection_service().update(changed, secrets,
                                                               new_store=args.new_store))
    print(f"Updated the connection {conn.name!r}.")
    if conn.quickbooks.product is QuickBooksProduct.DESKTOP:
        _desktop_next(app, conn)
    if args.new_store:
        print("It now reads a different store: the next sync books its orders as new. What "
              "it booked before stays in QuickBooks.")
    return EXIT_OK


def _connection_summary(app: App, conn: Connection, *, full: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "name": conn.name, "id": conn.id, "source": conn.source_kind, "mode": conn.mode.value,
        "quickbooks": {"product": conn.quickbooks.product.value,
                       "connected": conn.quickbooks.connected,
                       "company": conn.quickbooks.company_name,
                       "environment": conn.quickbooks.environment,
                       "realm_id": conn.quickbooks.realm_id,
                       "signed_in_at": conn.quickbooks.signed_in_at,
                       "authorisation_ends_at": conn.quickbooks.authorisation_ends_at,
                       "connect_service": conn.quickbooks.connect_service,
                       "needs_reconnect": conn.quickbooks.needs_reconnect},
    }
    if conn.quickbooks.product is QuickBooksProduct.DESKTOP:
        summary["quickbooks"].update(company_file=conn.quickbooks.company_file,
                                     transport=conn.quickbooks.desktop_transport.value)
    if full:
        secret_names = store_secret_names(app.source_kinds.get(conn.source_kind))
        summary.update({
            "settings": dict(conn.source_settings),
            # Whether each secret is set, never its value.
            "secrets": {name: _has_secret(app, conn, name) for name in secret_names},
            "statuses": list(conn.statuses),
            "use_qb_numbering": conn.use_qb_numbering,
            "prefix": conn.prefix,
            "sync_purchase_orders": conn.sync_purchase_orders,
            "mapping": to_plain(conn.mapping),
            "schedule": to_plain(conn.schedule),
            "rules": [describe(rule, conn.quickbooks.product) for rule in conn.rules],
        })
    return summary


def _has_secret(app: App, conn: Connection, name: str) -> bool:
    try:
        return app.connection_service().has_secret(conn.id, name)
    except ConnexError:   # no keyring: shown as not set
        return False


def _connection_list(app: App, args: argparse.Namespace) -> int:
    connections = app.connections.list()
    if args.json:
        print(json.dumps([_connection_summary(app, c, full=False) for c in connections],
                         indent=2))
        return EXIT_OK
    if not connections:
        print("No connections yet. Add one with: connex-desktop connection add NAME ...")
    for conn in connections:
        company = (f"QuickBooks: {conn.quickbooks.company_name or conn.quickbooks.realm_id}"
                   if conn.quickbooks.connected else "not connected to QuickBooks")
        print(f"{conn.name}: {conn.source_kind}, {conn.mode.value}, {company}")
    return EXIT_OK


def _connection_show(app: App, args: argparse.Namespace) -> int:
    conn = app.connections.get(args.name)
    summary = _connection_summary(app, conn, full=True)
    reads = (app.runs.reads_this_month(conn.quickbooks.realm_id)
             if conn.quickbooks.connected else None)
    if reads is not None:
        summary["quickbooks"].update(reads_this_month=reads.reads,
                                     reads_counted_since=reads.since.isoformat())
    if args.json:
        print(json.dumps(summary, indent=2))
        return EXIT_OK
    for key, value in summary.items():
        print(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")
    if conn.quickbooks.product is QuickBooksProduct.DESKTOP:
        print("\n".join(desktop_cli.desktop_lines(conn)))
    if reads is not None:
        print(reads.describe())
    reconnect = _reconnect_line(conn)
    if reconnect:
        print(reconnect)
    return EXIT_OK


def _now() -> datetime:
    return datetime.now().astimezone()


def _reconnect_line(conn: Connection) -> str:
    """Why and by when the company needs a new sign-in ("" when it does not)."""
    company = conn.quickbooks
    if company.connected and company.needs_reconnect:
        return (f"{RECONNECT_WORDS}: QuickBooks refused the saved authorisation. Sign in again "
                f"with: connex-desktop qb connect {_shell_word(conn.name)}")
    warning = reconnect_warning(company, _now())
    return f"{warning}: sign in again with: connex-desktop qb connect " \
           f"{_shell_word(conn.name)}" if warning else ""


def _connection_remove(app: App, args: argparse.Namespace) -> int:
    conn = app.connections.get(args.name)
    app.connection_service().remove(conn.name)
    print(f"Removed the connection {conn.name!r}; what it booked stays in the ledger.")
    return EXIT_OK


# ---- QuickBooks --------------------------------------------------------------------------

def _qb_connect(app: App, args: argparse.Namespace) -> int:
    conn = app.connections.get(args.name)
    assert conn.id is not None
    if conn.quickbooks.product is QuickBooksProduct.DESKTOP:
        raise UsageError(f"{conn.name} books into QuickBooks Desktop, which needs no sign-in: "
                         "QuickBooks asks to allow the app the first time it is reached "
                         f"(Web Connector: connex-desktop qb web-connector "
                         f"{_shell_word(conn.name)} --qwc FOLDER).")
    service = app.connection_service()
    keep: Callable[[], Connection]
    storing: AbstractContextManager[None] = nullcontext()
    if args.client_id and args.service:
        raise UsageError("Use --client-id (your own Intuit app) or --service, not both.")
    if args.client_id:
        # The new tokens are tried in memory first, so a wrong one never replaces working ones.
        trial = MemorySecretStore()
        company = _connect_with_own_keys(args, conn, trial, quickbooks_key_prefix(conn.id))
        keep = functools.partial(service.connect_quickbooks, conn, company, trial)
    elif args.token_stdin or args.environment or args.realm_id:
        raise UsageError("--environment, --realm-id and --token-stdin go with --client-id "
                         "(your own Intuit app's keys); without it, the connect service signs "
                         "in.")
    else:
        through_service = _sign_in_through_service(app, args.service)
        if through_service is None:
            print("connex-desktop: the sign-in was cancelled.", file=sys.stderr)
            return EXIT_USAGE
        client, pending, signed_in = through_service
        keep = functools.partial(service.connect_signed_in, conn, signed_in, client.url)
        storing = client.storing(pending)   # the service's page follows how storing ends
    try:
        with storing:
            connected = keep()
    except ConnexError as error:
        print(f"connex-desktop: could not connect the QuickBooks company: {error}",
              file=sys.stderr)
        return EXIT_USAGE
    print(f"Connected {conn.name!r} to the QuickBooks company "
          f"{connected.quickbooks.company_name!r} ({connected.quickbooks.realm_id}).")
    return EXIT_OK


def _connect_with_own_keys(args: argparse.Namespace, conn: Connection, trial: SecretStore,
                           prefix: str) -> QuickBooksCompany:
    """Bring-your-own Intuit app: its client id and secret, a pasted callback or a token."""
    if not args.environment:
        raise UsageError("--client-id needs --environment (production, sandbox or a base URL).")
    company = QuickBooksCompany(environment=args.environment.strip(),
                                client_id=args.client_id.strip(),
                                realm_id=(args.realm_id or "").strip(),
                                redirect_uri=conn.quickbooks.redirect_uri)
    if args.token_stdin:
        if not company.realm_id:
            raise UsageError("--token-stdin needs --realm-id (the QuickBooks company id).")
        client_secret = sys.stdin.readline().rstrip("\r\n")
        refresh_token = sys.stdin.readline().rstrip("\r\n")
        if not client_secret or not refresh_token:
            raise UsageError("--token-stdin reads two lines: the client secret, then a refresh "
                             "token.")
        save_credentials(trial, prefix, client_secret=client_secret,
                         refresh_token=refresh_token)
        return company
    import getpass  # only the interactive flow asks for input

    client_secret = getpass.getpass("Client secret (not shown): ").strip()
    state = new_state()
    url = authorization_url(company, state)
    print(f"Opening QuickBooks to allow access:\n  {url}")
    webbrowser.open(url)
    callback = input("After allowing access, paste the address the browser was sent to: ")
    code, realm_id = parse_callback(callback.strip(), state)
    return exchange_code(company, trial, prefix, client_secret=client_secret, code=code,
                         realm_id=realm_id)


def _sign_in_through_service(app: App, service: str | None
                             ) -> tuple[ConnectClient, PendingSignIn, SignedIn] | None:
    """Sign in through the connect service: print the link, wait for the user's approval
    (None if the user cancels); the service's client, the sign-in and its tokens."""
    client = ConnectClient(service or app.connect_service() or service_url())
    if service:   # checked (https) by the client: remembered for later sign-ins here
        app.settings.set(CONNECT_SERVICE_URL, client.url)
    pending = client.start()
    stop = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: stop.cancel())
    try:
        print("Open this address to allow access to your QuickBooks company (it opens by "
              f"itself if a browser is at hand):\n  {pending.authorization_url}\n"
              "Waiting for the approval… (Ctrl+C cancels)", flush=True)
        webbrowser.open(pending.authorization_url)
        signed_in = client.wait(pending, cancelled=lambda: stop.cancelled)
    finally:
        signal.signal(signal.SIGINT, previous)
    if signed_in is None:
        return None
    return client, pending, signed_in


def _qb_web_connector(app: App, args: argparse.Namespace) -> int:
    conn = app.connections.get(args.name)
    if (conn.quickbooks.product is not QuickBooksProduct.DESKTOP
            or conn.quickbooks.desktop_transport is not DesktopTransport.WEB_CONNECTOR):
        raise UsageError(f"{conn.name} does not book through the QuickBooks Web Connector; "
                         "choose it with: connection set NAME --quickbooks desktop --transport "
                         "web-connector")
    assert conn.id is not None
    password = app.connection_service().web_connector_password(conn.id)
    if args.qwc:
        path = desktop_cli.write_qwc(app, conn, Path(args.qwc))
        print(f"Wrote {path}. In the QuickBooks Web Connector: Add an application, choose this "
              "file, allow it in QuickBooks, then type the password into its row.")
    if args.show_password:
        print(f"Web Connector password: {password}")
    else:
        print("The Web Connector's password is kept in the keyring; print it with "
              "--show-password.")
    return EXIT_OK


def _qb_disconnect(app: App, args: argparse.Namespace) -> int:
    conn = app.connections.get(args.name)
    assert conn.id is not None
    try:
        app.connection_service().disconnect_quickbooks(conn.id)
    except ConnexError as error:
        print(f"connex-desktop: QuickBooks could not be told to forget the access "
              f"({error}); the tokens are removed here all the same.", file=sys.stderr)
    print(f"Disconnected {conn.name!r} from QuickBooks; its access was revoked and its tokens "
          "removed.")
    return EXIT_OK


def _shell_word(text: str) -> str:
    return text if text.replace("-", "").replace("_", "").isalnum() else json.dumps(text)
