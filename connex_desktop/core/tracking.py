"""Classes and locations: where each QuickBooks has them, how to turn them on, what to refuse."""

from __future__ import annotations

from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.errors import SetupError

# Where a company turns tracking on, in each QuickBooks' own words.
TURN_ON_CLASSES = {
    QuickBooksProduct.ONLINE: "turn on 'Track classes' in QuickBooks (Account and settings, "
                              "Advanced, Categories)",
    QuickBooksProduct.DESKTOP: "turn on 'Use class tracking for transactions' in QuickBooks "
                               "(Edit, Preferences, Accounting, Company Preferences)",
}
TURN_ON_LOCATIONS = ("turn on 'Track locations' in QuickBooks (Account and settings, Advanced, "
                     "Categories)")
DESKTOP_HAS_NO_LOCATIONS = ("QuickBooks Desktop has no locations (only QuickBooks Online "
                            "has them); report by a class instead")


def untracked(what: str, product: QuickBooksProduct) -> str:
    """Why a company offers no class (`what` "class") or location, and how to change that."""
    if what == "class":
        return f"This company does not track classes: to choose one, {TURN_ON_CLASSES[product]}."
    if product is QuickBooksProduct.DESKTOP:
        return DESKTOP_HAS_NO_LOCATIONS + "."
    return f"This company does not track locations: to choose one, {TURN_ON_LOCATIONS}."


def untracked_choices(product: QuickBooksProduct, classes: bool | None,
                      locations: bool | None) -> dict[str, str]:
    """By mapping and rule field, why the company takes no class or location and how to
    change that, from whether it tracks `classes` and `locations` (None: not known yet)."""
    found = {}
    if classes is False:
        found["class_name"] = untracked("class", product)
    if product is QuickBooksProduct.DESKTOP or locations is False:
        found["location_name"] = untracked("location", product)
    return found


def location_problems(connection: Connection) -> list[SetupError]:
    """A location chosen for a QuickBooks Desktop connection, or by one of its rules: Desktop
    has none to book it to, so it is refused rather than dropped."""
    if connection.quickbooks.product is not QuickBooksProduct.DESKTOP:
        return []
    problems = []
    if connection.mapping.location_name.strip():
        problems.append(SetupError(
            f"The location '{connection.mapping.location_name}' cannot be booked: "
            f"{DESKTOP_HAS_NO_LOCATIONS}, or clear it.", field="location_name"))
    problems += [SetupError(f"Rule '{rule.name}' chooses the location '{rule.location_name}', "
                            f"which cannot be booked: {DESKTOP_HAS_NO_LOCATIONS}, or clear it "
                            "in the rule.", field="rules")
                 for rule in connection.rules if rule.location_name.strip()]
    return problems
