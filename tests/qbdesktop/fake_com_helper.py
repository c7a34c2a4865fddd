"""The 32-bit helper as the tests run it: com_helper's loop with the fake COM object in front of
a fake company file. Arguments: the fake's settings as JSON, then what the app passes (the
company file and the app's name). `dies_after`: the process ends, as a crash does, right
after QuickBooks processed that many documents, before answering the last."""

from __future__ import annotations

import json
import os
import sys

from connex_desktop.qbdesktop.com_helper import serve
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from tests.qbdesktop.fake_com import FakeRequestProcessor
from tests.qbdesktop.schema import schema_errors

if __name__ == "__main__":
    quickbooks = FakeQuickBooks(FakeCompanyFile("Trailhead Outfitters"), validator=schema_errors)
    settings = json.loads(sys.argv[1])
    dies_after = settings.pop("dies_after", None)
    fake = FakeRequestProcessor(quickbooks, **settings)
    if dies_after is not None:
        process_request = fake.ProcessRequest

        def dying(ticket: str, request: str) -> str:
            answer = process_request(ticket, request)
            if fake.calls.count("ProcessRequest") >= dies_after:
                os._exit(1)
            return answer

        fake.ProcessRequest = dying  # type: ignore[method-assign]
    serve(sys.stdin, sys.stdout, sys.argv[2], sys.argv[3], open_com=fake.opener)
