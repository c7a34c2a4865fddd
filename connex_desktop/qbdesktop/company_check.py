"""The connection test: which QuickBooks Desktop and which company a transport reaches."""

from __future__ import annotations

from dataclasses import dataclass

from connex_desktop.qbdesktop.qbxml import message_set
from connex_desktop.qbdesktop.requests import host_query, query_request
from connex_desktop.qbdesktop.responses import Outcome, parse_response, result_error
from connex_desktop.qbdesktop.transport import QbXmlProcessor


@dataclass(frozen=True)
class DesktopCompany:
    name: str          # the company's name in QuickBooks
    product: str       # e.g. "QuickBooks Premier Edition 2024"
    country: str       # US, CA, UK…

    def describe(self) -> str:
        return f"{self.name} ({self.product}, {self.country})"


def check_connection(processor: QbXmlProcessor) -> DesktopCompany:
    """Ask QuickBooks for its product and the open company's name (reads only); raises the
    ConnexError saying what to do when it cannot be reached or refuses."""
    answer = parse_response(processor.process(message_set(
        [host_query("host"), query_request("Company", "company")])))
    for result in answer.results:
        if result.outcome is Outcome.ERROR:
            raise result_error(result, what="Reading the company")
    host, company = answer.result("host"), answer.result("company")
    return DesktopCompany(company.value("CompanyName") or company.value("LegalCompanyName"),
                          host.value("ProductName"), host.value("Country"))
