"""Currencies: what a multicurrency company can use, fixed day rates, and the currency rules."""

from __future__ import annotations

from decimal import Decimal

from connex_desktop.core.money import money
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.records import Entity, Records, parse_number, ref_id

# ISO code → (name as QuickBooks spells it in CurrencyRef.name, US dollars per unit). The rates
# are fixed so tests are repeatable; a real company takes the day's rate when none is sent.
CURRENCIES: dict[str, tuple[str, Decimal]] = {
    "USD": ("United States Dollar", Decimal("1")),
    "EUR": ("Euro", Decimal("1.08")),
    "GBP": ("British Pound Sterling", Decimal("1.27")),
    "CAD": ("Canadian Dollar", Decimal("0.73")),
    "AUD": ("Australian Dollar", Decimal("0.66")),
    "NZD": ("New Zealand Dollar", Decimal("0.60")),
    "CHF": ("Swiss Franc", Decimal("1.13")),
    "JPY": ("Japanese Yen", Decimal("0.0067")),
    "MXN": ("Mexican Peso", Decimal("0.058")),
    "SEK": ("Swedish Krona", Decimal("0.095")),
}
RATE_PLACES = Decimal("0.000001")


def currency_ref(code: str) -> dict[str, str]:
    return {"value": code, "name": CURRENCIES[code][0]}


def day_rate(foreign: str, home: str) -> Decimal:
    """Home-currency units per one unit of `foreign` (how QuickBooks states ExchangeRate)."""
    return (CURRENCIES[foreign][1] / CURRENCIES[home][1]).quantize(RATE_PLACES)


class CurrencyRules(Records):
    """Home currency, a customer's or vendor's fixed currency, and each document's rate."""

    def _home_currency(self) -> str:
        return str(self._pref("CurrencyPrefs", "HomeCurrency")["value"])

    def _usable_currency(self, code: str) -> str:
        home = self._home_currency()
        code = code.strip().upper()
        if code == home:
            return code
        if not self._pref("CurrencyPrefs", "MultiCurrencyEnabled"):
            raise faults.business_validation(
                f"Multicurrency is off for this company: it keeps its books only in {home}, "
                f"not {code}.", "CurrencyRef")
        if code not in CURRENCIES:
            raise faults.invalid_value("CurrencyRef", code)
        return code

    def _party_currency(self, raw: Entity, current: Entity | None) -> None:
        """A customer's or vendor's currency: chosen at creation (home by default), then fixed."""
        sent = ref_id(raw.get("CurrencyRef"))
        if current is None:
            raw["CurrencyRef"] = currency_ref(self._usable_currency(sent or
                                                                    self._home_currency()))
            return
        fixed = ref_id(current.get("CurrencyRef")) or self._home_currency()
        if sent is not None and sent.upper() != fixed:
            raise faults.business_validation(
                f"You can't change the currency once it's set: this one uses {fixed}.",
                "CurrencyRef")
        raw["CurrencyRef"] = currency_ref(fixed)

    def _transaction_currency(self, raw: Entity, party: Entity | None) -> Decimal:
        """Set CurrencyRef and ExchangeRate (home units per unit); returns the rate."""
        home = self._home_currency()
        party_code = ref_id((party or {}).get("CurrencyRef"))
        code = self._usable_currency(ref_id(raw.get("CurrencyRef")) or party_code or home)
        if party_code is not None and code != party_code:
            raise faults.business_validation(
                f"You can only use one foreign currency per transaction: "
                f"{party.get('DisplayName') if party else ''} uses {party_code}, "
                f"this transaction is in {code}.", "CurrencyRef")
        rate = Decimal(1)
        if code != home:
            sent = raw.get("ExchangeRate")
            rate = parse_number(sent, "ExchangeRate") if sent not in (None, 0) \
                else day_rate(code, home)
            if rate <= 0:
                raise faults.invalid_value("ExchangeRate", sent)
        raw["CurrencyRef"] = currency_ref(code)
        raw["ExchangeRate"] = rate
        return rate


def in_home_currency(document: Entity, amount: Decimal) -> Decimal:
    """`amount` of `document` in the company's home currency, to the cent."""
    return money(Decimal(amount) * Decimal(str(document.get("ExchangeRate", 1))))
