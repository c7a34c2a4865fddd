"""The composition root: the one place that builds stores, sources, clients and the engine."""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from connex_desktop.connections import (
    QUICKBOOKS_SECRETS,
    WEB_CONNECTOR_PASSWORD,
    WEB_CONNECTOR_PORT,
    ConnectionService,
    quickbooks_key_prefix,
    store_secret_names,
    web_connector_user,
)
from connex_desktop.core.app_settings import (
    CONNECT_SERVICE_URL,
    DEMO_COMPANY,
    KEYRING_FOLDER_ID,
    KEYRING_OLD_KEYS_MOVED,
)
from connex_desktop.core.connection import (
    Connection,
    DesktopTransport,
    QuickBooksProduct,
)
from connex_desktop.core.errors import SetupError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.private_files import private_file
from connex_desktop.core.secret_store import SecretStore, connection_secret_key
from connex_desktop.logs import register_secret
from connex_desktop.paths import AppPaths
from connex_desktop.quickbooks.auth import REFRESH_TOKEN, QuickBooksAuth
from connex_desktop.quickbooks.connect_client import service_url
from connex_desktop.sandbox.kinds import DEFAULT_KIND
from connex_desktop.sources.base import Source
from connex_desktop.sources.bigcommerce import BigCommerceSource
from connex_desktop.sources.csv_file import CsvSource
from connex_desktop.sources.demo_pos import DemoPosSource
from connex_desktop.sources.demo_store import (
    COMPANY_SETTING,
    DemoSource,
    demo_company_setting,
    parse_demo_company,
)
from connex_desktop.sources.erply import ErplySource
from connex_desktop.sources.lightspeed_r import LightspeedRSource
from connex_desktop.sources.lightspeed_x import LightspeedXSource
from connex_desktop.sources.linnworks import LinnworksSource
from connex_desktop.sources.shopify import ShopifySource
from connex_desktop.sources.skuvault import SkuVaultSource
from connex_desktop.sources.woocommerce import WooCommerceSource
from connex_desktop.storage.database import Database, raise_if_storage_error
from connex_desktop.storage.keyring_secrets import (
    FolderSecretStore,
    KeyringSecretStore,
    KeyringUnavailable,
    MemorySecretStore,
    new_folder_id,
)
from connex_desktop.storage.ledger import LedgerRepository
from connex_desktop.storage.references import ReferenceRepository
from connex_desktop.storage.repositories import (
    ConnectionRepository,
    CursorRepository,
    RunRepository,
    SettingsRepository,
)
from connex_desktop.storage.sync_locks import SyncLocks

# The QuickBooks client and the engine (with python-quickbooks and requests-oauthlib) are
# imported when first used, so the window shows without waiting for them.
if TYPE_CHECKING:
    from connex_desktop.demo_sign_in import DemoSignIn
    from connex_desktop.qbdesktop.soap import WebConnectorServer
    from connex_desktop.qbdesktop.transport import QbXmlProcessor
    from connex_desktop.quickbooks.client import QuickBooksClient
    from connex_desktop.sandbox.process import SandboxProcess
    from connex_desktop.sync.back_end import QuickBooksBackEnd
    from connex_desktop.sync.desktop_company import QuickBooksDesktop
    from connex_desktop.sync.engine import Engine
    from connex_desktop.sync.undo import RunUndoer

DEMO_CONNECTION_NAME = "Demo store"
DEMO_POS_CONNECTION_NAME = "Demo POS store"
# The demo's stores (`demo --store`): the online shop, and a shop with a point of sale whose
# own purchase orders are synced too. Each: its connection, source and mode when created.
DEMO_STORES: Mapping[str, tuple[str, type[Source], TransactionMode]] = {
    "web": (DEMO_CONNECTION_NAME, DemoSource, TransactionMode.INVOICES_WITH_PAYMENTS),
    "pos": (DEMO_POS_CONNECTION_NAME, DemoPosSource, TransactionMode.SALES_RECEIPTS)}
DEMO_COMPANY_FILE = "demo-company.sqlite3"
DEMO_MODE = DEMO_STORES["web"][2]   # the demo connection's mode when created
INSECURE_TRANSPORT_ENV = "OAUTHLIB_INSECURE_TRANSPORT"
WEB_CONNECTOR_PORT_ENV = "CONNEX_WEB_CONNECTOR_PORT"   # another port for the Web Connector
SOURCE_KINDS: Mapping[str, type[Source]] = {CsvSource.kind: CsvSource, DemoSource.kind: DemoSource,
                                            DemoPosSource.kind: DemoPosSource,
                                            ErplySource.kind: ErplySource,
                                            WooCommerceSource.kind: WooCommerceSource,
                                            BigCommerceSource.kind: BigCommerceSource,
                                            LightspeedRSource.kind: LightspeedRSource,
                                            LightspeedXSource.kind: LightspeedXSource,
                                            LinnworksSource.kind: LinnworksSource,
                                            SkuVaultSource.kind: SkuVaultSource,
                                            ShopifySource.kind: ShopifySource}

log = logging.getLogger(__name__)


def demo_company_file(kind: str, multicurrency: bool) -> str:
    """The data folder's file for the demo's sandbox company of this kind."""
    if kind == DEFAULT_KIND and not multicurrency:
        return DEMO_COMPANY_FILE
    return f"demo-company-{kind}{'-multicurrency' if multicurrency else ''}.sqlite3"


@dataclass
class _Demo:
    server: SandboxProcess
    sign_in: DemoSignIn
    secrets: SecretStore | None = None   # the keyring, or memory where there is none


@dataclass
class App:
    """Everything the GUI and the CLI use, built once by `build_app`."""

    paths: AppPaths
    database: Database
    connections: ConnectionRepository
    runs: RunRepository
    cursors: CursorRepository
    settings: SettingsRepository
    secrets: SecretStore
    source_kinds: Mapping[str, type[Source]]
    ledger: LedgerRepository = field(init=False)
    references: ReferenceRepository = field(init=False)
    sync_locks: SyncLocks = field(init=False)
    _demo: _Demo | None = field(default=None, init=False, repr=False)
    # The window's syncs start the demo's company on their own threads.
    _demo_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    # QuickBooks Desktop: the port the Web Connector calls (0: any free one), and what hears
    # each run's Web Connector server start (the demo's scripted Web Connector). Tests may
    # hand runs a request processor of their own (the fake company file) instead.
    web_connector_port: int = field(default=WEB_CONNECTOR_PORT, init=False)
    web_connector_started: Callable[[WebConnectorServer], None] | None = field(
        default=None, init=False, repr=False)
    desktop_processor_for: Callable[[Connection], QbXmlProcessor] | None = field(
        default=None, init=False, repr=False)
    # Connections whose QuickBooks secrets live in memory only (the demos' without a keyring,
    # the Desktop demo's always).
    memory_secrets: dict[int, SecretStore] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.ledger = LedgerRepository(self.database)
        self.references = ReferenceRepository(self.database)
        self.sync_locks = SyncLocks(self.paths.locks)

    def connect_service(self) -> str:
        """The connect service new sign-ins go through ("" when there is none); see
        connect_client.service_url for which wins."""
        return service_url(self.settings.get(CONNECT_SERVICE_URL), required=False)

    def source_for(self, connection: Connection) -> Source:
        """The connection's store, with its secrets read from the secret store."""
        kind = self.source_kinds.get(connection.source_kind)
        if kind is None:
            raise SetupError(f"This app does not know the store kind '{connection.source_kind}'.",
                             field="source")
        settings = {setting.name: setting.default for setting in kind.settings_fields
                    if setting.default}
        settings.update(connection.source_settings)
        service = self.connection_service()
        source = kind(settings, service.store_secrets(connection.id, kind))
        if connection.id is not None:   # a renewed secret (a rotated token) replaces the saved
            source.secret_saver = functools.partial(service.keep_store_secret, connection.id)
        return source

    def secrets_for(self, connection: Connection) -> SecretStore:
        """Where a connection's QuickBooks secrets are: the keyring; the demo's, in memory when
        there is no keyring."""
        return self.memory_secrets.get(connection.id or -1, self.secrets)

    def quickbooks_client(self, connection: Connection, *,
                          secrets: SecretStore | None = None) -> QuickBooksClient:
        """A client for the connection's company; `secrets` overrides where its tokens are
        (e.g. tokens being tried before they replace the saved ones)."""
        from connex_desktop.quickbooks.client import QuickBooksClient

        if connection.id is None:
            raise SetupError("Save the connection before connecting it to QuickBooks.")
        connection_id = connection.id
        # A refusal of the saved tokens marks the connection, and the end Intuit gives them is
        # kept with it; tokens on trial mark nothing.
        service = self.connection_service
        auth = QuickBooksAuth(
            connection.quickbooks, secrets or self.secrets_for(connection),
            quickbooks_key_prefix(connection_id),
            on_refused=None if secrets else lambda: service().mark_needs_reconnect(connection_id),
            on_end_told=None if secrets else lambda seconds: service().record_authorisation_end(
                connection_id, seconds))
        return QuickBooksClient(connection.quickbooks, auth)

    def quickbooks_company(self, connection: Connection) -> QuickBooksBackEnd:
        """The back-end of the connection's QuickBooks: Online's client, or Desktop's."""
        if connection.quickbooks.product is QuickBooksProduct.DESKTOP:
            return self.quickbooks_desktop(connection)
        return self.quickbooks_client(connection)

    def quickbooks_desktop(self, connection: Connection) -> QuickBooksDesktop:
        """QuickBooks Desktop through the connection's transport: the Web Connector's SOAP
        service served for the run, or the request processor on this computer (Windows)."""
        from connex_desktop.qbdesktop.transport import WebConnectorSession
        from connex_desktop.qbdesktop.webconnector import WebConnectorAccount
        from connex_desktop.sync.desktop_company import QuickBooksDesktop
        from connex_desktop.sync.desktop_lists import KeptLists

        if connection.id is None:
            raise SetupError("Save the connection before connecting it to QuickBooks.")
        company = connection.quickbooks
        lists = KeptLists(self.references, company.realm_id)
        if self.desktop_processor_for is not None:
            return QuickBooksDesktop(self.desktop_processor_for(connection),
                                     mapping=connection.mapping, lists=lists)
        if company.desktop_transport is DesktopTransport.THIS_COMPUTER:
            from connex_desktop.qbdesktop.com_helper import direct_processor

            processor = direct_processor(company.company_file)
            return QuickBooksDesktop(processor, mapping=connection.mapping,
                                     on_close=processor.close, lists=lists)
        account = WebConnectorAccount(
            web_connector_user(connection.id),
            connection_secret_key(connection.id, WEB_CONNECTOR_PASSWORD), company.company_file)
        session = WebConnectorSession(account, self.secrets_for(connection),
                                      self.web_connector_port, started=self.web_connector_started)
        return QuickBooksDesktop(session, mapping=connection.mapping, on_close=session.close,
                                 lists=lists, on_heed=session.heed)

    def connection_service(self) -> ConnectionService:
        """What adds, changes, copies, removes and (dis)connects connections with their
        secrets, for the command line and the window alike."""
        return ConnectionService(connections=self.connections, secrets=self.secrets,
                                 source_kinds=self.source_kinds,
                                 quickbooks_secrets_for=self.secrets_for,
                                 client_for=self.quickbooks_client, source_for=self.source_for,
                                 references=self.references)

    def engine(self) -> Engine:
        from connex_desktop.sync.engine import Engine

        return Engine(runs=self.runs, ledger=self.ledger, cursors=self.cursors,
                      connections=self.connections, secrets=self.secrets,
                      source_for=self.source_for,
                      client_for=self.quickbooks_company, source_kinds=self.source_kinds,
                      locks=self.sync_locks, references=self.references)

    def undoer(self) -> RunUndoer:
        """What deletes from QuickBooks the documents a sync run booked."""
        from connex_desktop.sync.undo import RunUndoer

        return RunUndoer(runs=self.runs, ledger=self.ledger, cursors=self.cursors,
                         connections=self.connections, client_for=self.quickbooks_company,
                         locks=self.sync_locks)

    def mark_interrupted_runs(self) -> int:
        """Runs left "running" by a process that ended before finishing them (killed, crashed,
        powered off) become failed, saying so; runs another live process is doing are left
        alone. Returns how many. The engine does the same for its connection before each run.
        """
        marked = 0
        for connection in self.connections.list():
            assert connection.id is not None
            with self.sync_locks.hold(connection.id) as held:
                if held:
                    marked += self.runs.mark_interrupted(connection.id)
        return marked

    def start_demo(self, *, orders: int | None = None, mode: TransactionMode | None = None,
                   company_kind: str | None = None, multicurrency: bool | None = None,
                   store: str = "web") -> Connection:
        """Start the sandbox company (kept in the data folder) and the connection of the demo
        `store` (DEMO_STORES); a new POS demo connection syncs its purchase orders.

        The sandbox runs in a process of its own (ended with the app), so serving the sync's
        requests never takes time from the window's thread.

        `company_kind` and `multicurrency` choose the kind of sandbox company (see
        sandbox/kinds.py) and are kept for later runs, as `mode` is; each kind has its own
        company file (the first run's default, "us", DEMO_COMPANY_FILE).

        `mode` is the demo connection's transaction mode when given; otherwise a new demo
        connection gets DEMO_MODE and an existing one keeps the mode the user chose. The demo
        connects as a user does, through a connect service on this computer (demo_sign_in.py);
        its tokens go to the keyring, or to memory on a machine without one.
        """
        from connex_desktop.demo_sign_in import DemoSignIn  # only the demo needs these
        from connex_desktop.sandbox.process import SandboxProcess

        # The demo company answers over plain http on loopback; python-quickbooks' OAuth
        # session refuses http unless told (the same switch tests/conftest.py sets).
        os.environ.setdefault(INSECURE_TRANSPORT_ENV, "1")
        kind, multicurrency = self._demo_company(company_kind, multicurrency)
        with self._demo_lock:   # one company, however many syncs start it at once
            if self._demo is None:
                server = SandboxProcess(private_file(self.paths.data / demo_company_file(
                    kind, multicurrency)), kind=kind, multicurrency=multicurrency)
                server.start()
                self._demo = _Demo(server, DemoSignIn(server))
            demo = self._demo
        settings = {COMPANY_SETTING: demo_company_setting(kind, multicurrency)}
        if orders is not None:
            settings["orders"] = str(orders)
        name, kind_of_store, store_mode = DEMO_STORES[store]
        try:
            existing = self.connections.get(name)
        except SetupError:
            existing = None
        if existing is None:
            connection = self.connections.add(Connection(
                name=name, source_kind=kind_of_store.kind, mode=mode or store_mode,
                source_settings=settings,
                sync_purchase_orders=kind_of_store.keeps_own_purchase_orders))
        else:
            connection = self.connections.update(dataclasses.replace(
                existing, mode=mode or existing.mode,
                source_settings={**existing.source_settings, **settings}))
        assert connection.id is not None
        with self._demo_lock:
            if demo.secrets is None:
                demo.secrets = self._demo_secrets(connection.id)
        if demo.secrets is not self.secrets:   # no keyring: the demos' tokens stay in memory
            self.memory_secrets[connection.id] = demo.secrets
        return demo.sign_in.connected(self.connection_service(), connection, demo.secrets)

    def _demo_secrets(self, connection_id: int) -> SecretStore:
        """Where the demo's tokens go: the keyring, as every connection's; memory where there is
        none, so the demo runs anyway (its tokens open only a sandbox on this computer)."""
        try:
            self.secrets.get(f"{quickbooks_key_prefix(connection_id)}/{REFRESH_TOKEN}")
        except KeyringUnavailable:
            return MemorySecretStore(observer=register_secret)
        return self.secrets

    def with_demo_running(self, connection: Connection) -> Connection:
        """`connection`, with the demo's company started first when it is a demo connection
        (that company runs while this app does, with tokens it hands out at each start). The
        demo connection comes back as saved: `connection` may be older (a dialog opened before
        a Save), and none of it is saved back."""
        for store, (name, _kind, _mode) in DEMO_STORES.items():
            if connection.name == name:
                return self.start_demo(store=store)
        return connection

    def demo_address(self, connection: Connection) -> str | None:
        """Where a demo connection's company answers in this run of the app, "" while it is not
        running (its sandbox gets a new address at each start: the one saved is stale until
        then); None for any other connection."""
        if connection.name not in {name for name, _kind, _mode in DEMO_STORES.values()}:
            return None
        with self._demo_lock:
            return self._demo.server.base_url if self._demo is not None else ""

    def _demo_company(self, kind: str | None, multicurrency: bool | None) -> tuple[str, bool]:
        """The demo company's kind and multicurrency: as given (and remembered), else as last."""
        last_kind, last_multicurrency = parse_demo_company(self.settings.get(DEMO_COMPANY))
        if multicurrency is None:  # a kind named alone is a single-currency company
            multicurrency = kind is None and last_multicurrency
        chosen = (kind or last_kind, multicurrency)
        self.settings.set(DEMO_COMPANY, demo_company_setting(*chosen))
        return chosen

    def close(self) -> None:
        if self._demo is not None:
            self._demo.sign_in.close()
            self._demo.server.stop()
            self._demo = None
        self.database.close()


def build_app(data_dir: str | None = None, *, secrets: SecretStore | None = None) -> App:
    """Open the data folder (`--data-dir`, $CONNEX_DESKTOP_HOME or the platform's) and wire up.

    `secrets` is the store under the folder's keys (the system keyring when not given).
    """
    paths = AppPaths.resolve(data_dir)
    try:
        paths.ensure()
    except OSError as error:   # a read-only place or a full disk: say so plainly
        raise_if_storage_error(error, paths.data)
        raise
    database = Database.open(paths.database)
    settings = SettingsRepository(database)
    connections = ConnectionRepository(database)
    folder_secrets = FolderSecretStore(
        secrets if secrets is not None else KeyringSecretStore(observer=register_secret),
        settings.setdefault(KEYRING_FOLDER_ID, new_folder_id()))
    _move_old_secrets(folder_secrets, settings, connections)
    app = App(
        paths=paths, database=database, connections=connections,
        runs=RunRepository(database), cursors=CursorRepository(database), settings=settings,
        secrets=folder_secrets, source_kinds=SOURCE_KINDS)
    app.web_connector_port = int(os.environ.get(WEB_CONNECTOR_PORT_ENV) or WEB_CONNECTOR_PORT)
    return app


def _move_old_secrets(secrets: FolderSecretStore, settings: SettingsRepository,
                      connections: ConnectionRepository) -> None:
    """Once per folder: the secrets versions before the folder id kept under bare connection
    keys (`connection-1/…`, shared by every folder) move under this folder's id. Without a
    keyring it is tried again at the next start; nothing is ever kept outside the keyring."""
    if settings.get(KEYRING_OLD_KEYS_MOVED):
        return
    names = sorted({*QUICKBOOKS_SECRETS, *(name for kind in SOURCE_KINDS.values()
                                          for name in store_secret_names(kind))})
    keys = [connection_secret_key(connection.id, name) for connection in connections.list()
            if connection.id is not None for name in names]
    try:
        moved = secrets.adopt(keys)
    except KeyringUnavailable as error:
        log.warning("Saved passwords and tokens were not moved to this folder's keys yet: %s",
                    error.message)
        return
    settings.set(KEYRING_OLD_KEYS_MOVED, True)
    if moved:
        log.info("Moved %d saved secrets under this data folder's keyring keys.", moved)
