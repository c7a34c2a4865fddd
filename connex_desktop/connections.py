"""The connection service: connections saved, copied, removed and connected with their secrets."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import ntpath
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from secrets import token_urlsafe
from typing import TYPE_CHECKING

from connex_desktop.core.connection import (
    Connection,
    DesktopTransport,
    QuickBooksCompany,
    QuickBooksProduct,
)
from connex_desktop.core.errors import SetupError
from connex_desktop.core.modes import sales_orders_unavailable
from connex_desktop.core.quickbooks_rules import DOC_NUMBER_MAX_CHARS
from connex_desktop.core.rules import rules_problems
from connex_desktop.core.secret_store import SecretStore, connection_secret_key
from connex_desktop.core.token_life import end_after
from connex_desktop.core.tracking import location_problems
from connex_desktop.qbdesktop.com import APP_NAME
from connex_desktop.qbdesktop.qwc import qwc_file, qwc_settings
from connex_desktop.qbdesktop.soap import qwc_url
from connex_desktop.quickbooks.auth import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    QuickBooksAuth,
    save_credentials,
)
from connex_desktop.quickbooks.connect_client import SignedIn
from connex_desktop.quickbooks.ratelimit import limiter_for_realm
from connex_desktop.sources.base import (
    FieldKind,
    SettingField,
    Source,
    missing_settings,
    purchase_order_sync_unavailable,
    purchase_orders_unavailable,
)
from connex_desktop.storage.database import utc_now
from connex_desktop.storage.keyring_secrets import (
    MemorySecretStore,
    copy_connection_secrets,
    delete_connection_secrets,
)
from connex_desktop.storage.repositories import ConnectionRepository
from connex_desktop.sync.desktop_lists import COMPANY_INFO, KeptLists, host_record, kept_product

if TYPE_CHECKING:   # the client (python-quickbooks) is loaded when a company is first opened
    from connex_desktop.quickbooks.client import QuickBooksClient
    from connex_desktop.quickbooks.references import ReferenceStore

# A connection's QuickBooks secrets: its Intuit app's client secret, and the company's tokens.
QUICKBOOKS_TOKENS = (REFRESH_TOKEN, ACCESS_TOKEN)
QUICKBOOKS_SECRETS = (CLIENT_SECRET, *QUICKBOOKS_TOKENS)

# What of a connection's QuickBooks company only signing in, disconnecting and runs change.
SIGN_IN_FIELDS = ("environment", "client_id", "realm_id", "company_name", "redirect_uri",
                  "connect_service", "signed_in_at", "authorisation_ends_at", "needs_reconnect")
# An end Intuit gives moves by the seconds its answer took; kept anew only when it moved more.
END_MOVED = timedelta(hours=1)

# QuickBooks Desktop through the Web Connector: one local SOAP endpoint serves every
# connection; each signs in as its own user, with a password kept only in the keyring (the
# user types it into the Web Connector once). The secret's name under the connection's key:
WEB_CONNECTOR_PASSWORD = "web_connector_password"
WEB_CONNECTOR_PORT = 8766
WEB_CONNECTOR_PASSWORD_BYTES = 18      # 24 characters to paste, 144 random bits
COMPANY_FILE_SUFFIX = ".qbw"


def web_connector_user(connection_id: int) -> str:
    """The user name a connection's .qwc file signs the Web Connector in with."""
    return f"connex-{connection_id}"


def web_connector_url(port: int = WEB_CONNECTOR_PORT) -> str:
    """The SOAP endpoint the .qwc file points the Web Connector at."""
    return qwc_url(port)


def quickbooks_key_prefix(connection_id: int) -> str:
    """Where a connection's QuickBooks client secret and tokens live in the secret store."""
    return connection_secret_key(connection_id, "").rstrip("/")


def store_secret_names(kind: type[Source] | None) -> tuple[str, ...]:
    """The settings of a kind of store that are secrets, kept only in the secret store."""
    return tuple(setting.name for setting in kind.settings_fields if setting.secret) if kind \
        else ()


def setting_key(name: str) -> str:
    """The field a problem with the store setting `name` names, e.g. "source:store_url"."""
    return f"source:{name}"


def in_sentence(label: str) -> str:
    """A label inside a sentence: "Store address" → "store address"; "API key" keeps its
    capitals."""
    first_word = label.partition(" ")[0]
    if len(first_word) > 1 and first_word.isupper():
        return label
    return label[:1].lower() + label[1:]


def company_file_problems(company: QuickBooksCompany) -> list[SetupError]:
    """A QuickBooks Desktop company file must be named by its full Windows path (it may be on
    another computer, the Web Connector's); blank is the file open in QuickBooks."""
    path = company.company_file.strip()
    if company.product is not QuickBooksProduct.DESKTOP or not path:
        return []
    drive, rest = ntpath.splitdrive(path)    # "C:" or a share, then the folders
    if drive and rest.startswith(("\\", "/")) and path.lower().endswith(COMPANY_FILE_SUFFIX):
        return []
    return [SetupError("Enter the company file's full path, e.g. C:\\Users\\Public\\Documents"
                       "\\Intuit\\QuickBooks\\Company Files\\Shop.qbw, or leave it blank for "
                       "the file open in QuickBooks.", field="company_file")]


DESKTOP_ENVIRONMENT = "desktop"      # QuickBooksCompany.environment of a Desktop connection


def chosen_company(current: QuickBooksCompany, product: str | None, company_file: str | None,
                   transport: str | None) -> QuickBooksCompany:
    """The connection's QuickBooks after choosing Online or Desktop, the company file and the
    transport (None: unchanged), as Configure and `connection set` both save it. A Desktop
    company is known to the ledger by its file; back to Online, it must be connected anew."""
    wanted = QuickBooksProduct(product) if product else current.product
    if wanted is QuickBooksProduct.ONLINE:
        if company_file is not None or transport is not None:
            raise SetupError("A company file and a transport go with QuickBooks Desktop.",
                             field="quickbooks")
        # From Desktop back to Online: connect it to an Online company (qb connect).
        return QuickBooksCompany() if current.product is QuickBooksProduct.DESKTOP else current
    path = current.company_file if company_file is None else company_file.strip()
    was_desktop = current.product is QuickBooksProduct.DESKTOP
    if was_desktop and path == current.company_file:
        realm = current.realm_id
    else:
        realm = desktop_realm(path)
    return dataclasses.replace(
        current if was_desktop else QuickBooksCompany(), environment=DESKTOP_ENVIRONMENT,
        realm_id=realm, company_name=_file_name(path) if path else "the open company file",
        product=QuickBooksProduct.DESKTOP, company_file=path,
        desktop_transport=DesktopTransport(transport) if transport else (
            current.desktop_transport if was_desktop else DesktopTransport.WEB_CONNECTOR))


def _file_name(windows_path: str) -> str:
    """"Shop" for C:\\Company Files\\Shop.qbw, on any system."""
    return ntpath.splitext(ntpath.basename(windows_path))[0]


def desktop_realm(company_file: str) -> str:
    """What the ledger knows a company file by: its path, or (the file open in QuickBooks,
    whichever it is) an id of its own."""
    if not company_file:
        return f"qbd-{uuid.uuid4().hex[:16]}"
    return "qbd-" + hashlib.sha256(company_file.casefold().encode()).hexdigest()[:16]


class MissingSetting(SetupError):
    """A required store setting left blank; `setting` is what the store declares of it."""

    def __init__(self, setting: SettingField) -> None:
        super().__init__(f"Enter the {in_sentence(setting.label)}.",
                         field=setting_key(setting.name))
        self.setting = setting


class ConnectionProblems(SetupError):
    """Every reason a connection cannot be saved, each naming its field; it says the first."""

    def __init__(self, problems: Sequence[SetupError]) -> None:
        super().__init__(problems[0].message, field=problems[0].field)
        self.problems = tuple(problems)


@dataclass
class ConnectionService:
    """Adds, changes, copies, removes, connects and disconnects connections, their secrets
    going only to the secret store; the command line and the window both work through it.

    `quickbooks_secrets_for` says where a connection's QuickBooks secrets are (the demo's are
    in memory); `client_for(connection, secrets=...)` opens its company; `source_for` its store.
    """

    connections: ConnectionRepository
    secrets: SecretStore
    source_kinds: Mapping[str, type[Source]]
    quickbooks_secrets_for: Callable[[Connection], SecretStore]
    client_for: Callable[..., QuickBooksClient]
    source_for: Callable[[Connection], Source]
    # What runs learned of a company (its Desktop product): none given, nothing is known.
    references: ReferenceStore | None = None

    # ── validation ──────────────────────────────────────────────────────────────────────────

    def has_secret(self, connection_id: int | None, name: str) -> bool:
        """Whether a secret of a saved connection is in the secret store (never its value)."""
        if connection_id is None:
            return False
        return bool((self.secrets.get(connection_secret_key(connection_id, name)) or "").strip())

    def store_secrets(self, connection_id: int | None, kind: type[Source],
                      typed: Mapping[str, str] | None = None) -> dict[str, str]:
        """The store's secrets: those `typed`, and the saved ones of the others."""
        secrets = dict(typed or {})
        for name in store_secret_names(kind):
            if name not in secrets and connection_id is not None:
                value = self.secrets.get(connection_secret_key(connection_id, name))
                if value:
                    secrets[name] = value
        return secrets

    def problems(self, draft: Connection, typed: Mapping[str, str]) -> list[SetupError]:
        """Every reason `draft` cannot be saved with the secrets `typed`, each naming its field
        (a store setting's as `setting_key`); a secret not typed may be a saved one."""
        problems: list[SetupError] = []
        name = draft.name.strip()
        if not name:
            problems.append(SetupError("Give the connection a name.", field="name"))
        elif any(other.name.casefold() == name.casefold() and other.id != draft.id
                 for other in self.connections.list()):
            problems.append(SetupError(f"A connection named {name!r} already exists; choose "
                                       "another name.", field="name"))
        kind = self.source_kinds.get(draft.source_kind)
        if kind is None:
            return [*problems, SetupError("Choose the kind of store.", field="source_kind")]
        unavailable = purchase_orders_unavailable(kind)
        if any(mode.books_purchase_orders for mode in draft.modes) and unavailable:
            problems.append(SetupError(f"{unavailable} Choose a mode without purchase orders.",
                                       field="mode"))
        unavailable = purchase_order_sync_unavailable(kind)
        if draft.sync_purchase_orders and unavailable:
            problems.append(SetupError(unavailable, field="sync_purchase_orders"))
        problems += sales_order_problems(draft, kept_product(self.references, draft.quickbooks)
                                         if self.references else "")
        problems += [SetupError(problem, field="rules") for problem in rules_problems(draft.rules)]
        problems += setting_problems(draft, kind, lambda name: bool(
            typed.get(name)) or self.has_secret(draft.id, name))
        if len(draft.prefix.strip()) >= DOC_NUMBER_MAX_CHARS:
            problems.append(SetupError(
                f"Keep the prefix under {DOC_NUMBER_MAX_CHARS} characters: the order number "
                "must fit after it.", field="prefix"))
        return problems + company_file_problems(draft.quickbooks) + location_problems(draft)

    def keep_desktop_company(self, company: QuickBooksCompany, product: str,
                             country: str) -> None:
        """What Configure's connection test found the company file to be, kept as a run keeps
        it (so a Pro file is not offered sales orders)."""
        if self.references is not None and company.realm_id:
            KeptLists(self.references, company.realm_id).keep(COMPANY_INFO,
                                                              host_record(product, country))

    def _checked(self, draft: Connection, typed: Mapping[str, str]) -> None:
        problems = self.problems(draft, typed)
        if problems:
            raise ConnectionProblems(problems)

    # ── saving ──────────────────────────────────────────────────────────────────────────────

    def add(self, draft: Connection, typed: Mapping[str, str]) -> Connection:
        """Save a new connection and its typed secrets together: if the secrets cannot be
        stored, the connection is removed again. Raises ConnectionProblems."""
        self._checked(draft, typed)
        connection = self.connections.add(draft)
        assert connection.id is not None
        try:
            self._store_secrets(connection.id, typed)
        except Exception:
            self.connections.remove(connection.name)
            raise
        return connection

    def update(self, connection: Connection, typed: Mapping[str, str], *,
               new_store: bool = False) -> Connection:
        """Save a changed connection; the secrets go first, so a keyring that fails leaves
        the saved settings as they were. `new_store`: it now reads a different store, whose
        orders are new to the ledger. Raises ConnectionProblems."""
        self._checked(connection, typed)
        connection_id = connection.id
        assert connection_id is not None
        self._store_secrets(connection_id, typed)
        saved = self.connections.update(self._signed_in_as_now(connection))
        if new_store:
            self.connections.start_new_store(connection_id, self.source_for(saved).store_key)
        return saved

    def keep_store_secret(self, connection_id: int, name: str, value: str) -> None:
        """Save at once a secret the store renewed (a rotated refresh token): the store may
        have revoked the saved one already."""
        self.secrets.set(connection_secret_key(connection_id, name), value)

    def _signed_in_as_now(self, connection: Connection) -> Connection:
        """`connection` with its QuickBooks sign-in as saved now: a form opened before a sign-in,
        a disconnect or a run's refusal does not undo them when saved (only they change it)."""
        assert connection.id is not None
        saved = self.connections.get_by_id(connection.id).quickbooks
        if QuickBooksProduct.DESKTOP in (saved.product, connection.quickbooks.product):
            return connection   # Desktop's company is the file chosen, not a sign-in
        return dataclasses.replace(connection, quickbooks=dataclasses.replace(
            connection.quickbooks, **{name: getattr(saved, name) for name in SIGN_IN_FIELDS}))

    def _store_secrets(self, connection_id: int, typed: Mapping[str, str]) -> None:
        for name, value in typed.items():
            self.secrets.set(connection_secret_key(connection_id, name), value)

    def copy(self, name: str) -> Connection:
        """A copy under a new name ("… (copy)"), with the store's secrets and the client
        secret of its own Intuit app, but not connected: QuickBooks rotates a refresh token on
        use, so two connections cannot share one; the copy is connected again with one click."""
        original = self.connections.get(name)
        assert original.id is not None
        taken = {connection.name for connection in self.connections.list()}
        copy_name = next(candidate for n in itertools.count(1)
                         if (candidate := f"{original.name} (copy{'' if n == 1 else f' {n}'})")
                         not in taken)
        company = original.quickbooks
        copy = self.connections.duplicate(original.name, copy_name)
        copy = self.connections.update(dataclasses.replace(copy, quickbooks=QuickBooksCompany(
            environment=company.environment, client_id=company.client_id,
            redirect_uri=company.redirect_uri)))
        assert copy.id is not None
        copy_connection_secrets(self.secrets, original.id, copy.id,
                                store_secret_names(self.source_kinds.get(original.source_kind)))
        copy_connection_secrets(self.quickbooks_secrets_for(original), original.id, copy.id,
                                [CLIENT_SECRET], into=self.quickbooks_secrets_for(copy))
        return copy

    def remove(self, name: str) -> int:
        """Remove the connection and every secret it has; what it booked stays in the ledger.
        Returns its id."""
        connection = self.connections.get(name)
        quickbooks_secrets = self.quickbooks_secrets_for(connection)
        connection_id = self.connections.remove(name)
        delete_connection_secrets(self.secrets, connection_id, (*store_secret_names(
            self.source_kinds.get(connection.source_kind)), WEB_CONNECTOR_PASSWORD))
        delete_connection_secrets(quickbooks_secrets, connection_id, QUICKBOOKS_SECRETS)
        return connection_id

    # ── QuickBooks ──────────────────────────────────────────────────────────────────────────

    def connect_quickbooks(self, connection: Connection, company: QuickBooksCompany,
                           trial: SecretStore) -> Connection:
        """Open `company` with the new secrets in `trial` (a store under the connection's
        QuickBooks key prefix), then keep them and the connection, named after the company.
        Tried first, a wrong token never replaces working ones. Returns the saved connection."""
        assert connection.id is not None
        candidate = dataclasses.replace(connection, quickbooks=company)
        with self.client_for(candidate, secrets=trial) as client:
            info = client.company_info()
        prefix = quickbooks_key_prefix(connection.id)
        secrets = self.quickbooks_secrets_for(connection)
        for name in QUICKBOOKS_SECRETS:   # as they are now: a refresh may have rotated them
            value = trial.get(f"{prefix}/{name}")
            if value:
                secrets.set(f"{prefix}/{name}", value)
            else:
                secrets.delete(f"{prefix}/{name}")
        # A sign-in starts a new authorisation: its five-year life (or the end Intuit gave with
        # its tokens, in `company`), and no refusal on record.
        named = dataclasses.replace(company, company_name=str(
            info.get("CompanyName") or info.get("LegalName") or company.company_name
            or company.realm_id), signed_in_at=utc_now(), needs_reconnect=False)
        current = self.connections.get_by_id(connection.id)   # as edited meanwhile
        return self.connections.update(dataclasses.replace(current, quickbooks=named))

    def connect_signed_in(self, connection: Connection, signed_in: SignedIn,
                          service: str) -> Connection:
        """Keep a sign-in finished through the connect service at `service` (which keeps its
        Intuit app's client secret), as connect_quickbooks does."""
        assert connection.id is not None
        # The service read the company's name a moment ago, on the same app's allowance: the
        # first sync's burst leaves room for it (else QuickBooks answers 429, a minute's wait).
        limiter_for_realm(signed_in.realm_id).count_sent_elsewhere()
        trial = MemorySecretStore()
        save_credentials(trial, quickbooks_key_prefix(connection.id), client_secret="",
                         refresh_token=signed_in.refresh_token,
                         access_token=signed_in.access_token)
        company = QuickBooksCompany(environment=signed_in.environment,
                                    realm_id=signed_in.realm_id,
                                    company_name=signed_in.company_name, connect_service=service,
                                    redirect_uri=connection.quickbooks.redirect_uri,
                                    authorisation_ends_at="" if signed_in.ends_in is None
                                    else end_after(signed_in.ends_in, datetime.now(UTC)))
        return self.connect_quickbooks(connection, company, trial)

    def mark_needs_reconnect(self, connection_id: int) -> None:
        """QuickBooks refused the connection's refresh token: keep that until it signs in
        again (the scheduler then leaves it alone, the window offers Reconnect)."""
        current = self.connections.get_by_id(connection_id)
        if current.quickbooks.connected and not current.quickbooks.needs_reconnect:
            self.connections.update(dataclasses.replace(current, quickbooks=dataclasses.replace(
                current.quickbooks, needs_reconnect=True)))

    def record_authorisation_end(self, connection_id: int, seconds_left: float) -> None:
        """Intuit said how long the connection's authorisation has left: keep its end, for the
        warning to reconnect in time (written only when it moved, not at every refresh)."""
        current = self.connections.get_by_id(connection_id)
        ends_at = end_after(seconds_left, datetime.now(UTC))
        kept = current.quickbooks.authorisation_ends_at
        if current.quickbooks.connected and (not kept or abs(
                datetime.fromisoformat(kept) - datetime.fromisoformat(ends_at)) > END_MOVED):
            self.connections.update(dataclasses.replace(current, quickbooks=dataclasses.replace(
                current.quickbooks, authorisation_ends_at=ends_at)))

    def saved_client_secret(self, connection: Connection) -> str:
        """The client secret saved for the connection's own Intuit app ("" when none is)."""
        assert connection.id is not None
        return self.quickbooks_secrets_for(connection).get(
            f"{quickbooks_key_prefix(connection.id)}/{CLIENT_SECRET}") or ""

    def disconnect_quickbooks(self, connection_id: int) -> Connection:
        """Revoke the access at QuickBooks, then forget the company and its tokens here; when
        QuickBooks cannot be told, they are forgotten all the same and its error is raised."""
        connection = self.connections.get_by_id(connection_id)
        prefix = quickbooks_key_prefix(connection_id)
        secrets = self.quickbooks_secrets_for(connection)
        try:
            if connection.quickbooks.connected:
                QuickBooksAuth(connection.quickbooks, secrets, prefix).revoke()
        finally:
            delete_connection_secrets(secrets, connection_id, QUICKBOOKS_TOKENS)
            company = dataclasses.replace(connection.quickbooks, realm_id="", company_name="",
                                          signed_in_at="", authorisation_ends_at="",
                                          needs_reconnect=False)
            disconnected = self.connections.update(dataclasses.replace(
                self.connections.get_by_id(connection_id), quickbooks=company))
        return disconnected

    # ── QuickBooks Desktop ──────────────────────────────────────────────────────────────────

    def web_connector_password(self, connection_id: int, *, create: bool = True) -> str:
        """The password the connection's Web Connector signs in with: made once (unless not
        to `create` it: "" then) and kept only in the secret store; the user types it into the
        Web Connector."""
        key = connection_secret_key(connection_id, WEB_CONNECTOR_PASSWORD)
        password = self.secrets.get(key) or ""
        if not password and create:
            password = token_urlsafe(WEB_CONNECTOR_PASSWORD_BYTES)
            self.secrets.set(key, password)
        return password

    def web_connector_file(self, connection: Connection, folder_id: str,
                           port: int = WEB_CONNECTOR_PORT) -> str:
        """The .qwc file adding the connection to the Web Connector; its ids stay the same for
        this connection of this data folder (`folder_id`), so QuickBooks keeps trusting it."""
        assert connection.id is not None
        return qwc_file(qwc_settings(f"{APP_NAME} - {connection.name}", web_connector_url(port),
                                     web_connector_user(connection.id), folder_id,
                                     connection.id))


def sales_order_problems(draft: Connection, product: str) -> list[SetupError]:
    """A sales-order mode, the connection's or a rule's, for a QuickBooks Desktop a run found
    to be `product` (Pro has none; "": not known)."""
    unavailable = sales_orders_unavailable(product)
    if not unavailable:
        return []
    said = f"{unavailable} This company file is {product}"
    problems = [SetupError(f"{said}: choose a mode without sales orders.", field="mode")
                ] if draft.mode.books_estimate else []
    problems += [SetupError(f"{said}: the rule {rule.name!r} books sales orders; choose "
                            "another mode for it.", field="rules")
                 for rule in draft.rules
                 if rule.mode is not None and not rule.skip and rule.mode.books_estimate]
    return problems


def setting_problems(draft: Connection, kind: type[Source],
                     secret_given: Callable[[str], bool]) -> list[SetupError]:
    """The store's required settings left blank, and addresses and files that cannot be;
    `secret_given(name)`: whether a secret setting was typed or is saved."""
    try:
        missing = missing_settings(kind, draft.source_settings, secret_given)
    except SetupError as error:      # settings that contradict each other
        return [SetupError(error.message, field=setting_key(error.field) if error.field
                           else "source_kind")]
    problems: list[SetupError] = [MissingSetting(setting) for setting in missing]
    for setting in kind.settings_fields:
        value = draft.source_settings.get(setting.name, "").strip()
        if not value or setting.secret:
            continue
        if setting.kind is FieldKind.URL and not value.startswith(("https://", "http://")):
            problems.append(SetupError(
                f"Enter the full address, starting with https://, for the "
                f"{in_sentence(setting.label)}.", field=setting_key(setting.name)))
        elif setting.kind is FieldKind.PATH and not Path(value).expanduser().is_file():
            problems.append(SetupError(f"There is no file at {value}.",
                                       field=setting_key(setting.name)))
    return problems
