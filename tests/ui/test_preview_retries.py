"""Preview shows what Sync now would do: the orders that failed before, which a plain sync tries
again, are in a plain preview too (and nothing is booked by it)."""

from __future__ import annotations

import dataclasses

from connex_desktop.core.result import OrderOutcome
from tests.ui.test_main_window import LONG_PREFIX, sync
from tests.ui.test_sync_log import loaded


def test_a_preview_after_failures_shows_them_tried_again(qtbot, desktop):
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    app.connections.update(dataclasses.replace(connection, prefix=LONG_PREFIX))
    _cid, failed, _request = sync(qtbot, desktop, window.sync_selected)
    failing = set(app.runs.failed_order_numbers(connection.id))
    assert failed.failed > 0 and len(failing) == failed.failed
    booked = {row.qb_id for row in app.ledger.booked_by_run(failed.run_id)}

    _cid, preview, _request = sync(qtbot, desktop, window.preview_selected)
    assert preview.dry_run and preview.failed == failed.failed
    assert preview.message.startswith(f"Would try again {failed.failed} orders that failed "
                                      "before: 0 would go through")
    # The log the preview opens lists them, as failing still: not "Preview: 0 to book".
    log = loaded(qtbot, window.show_log(connection.id))
    assert log.selected_run().id == preview.run_id
    assert f"{failed.failed} failed" in log.summary.text()
    shown = {row.order.order_number for row in log.orders_model.rows
             if row.order.outcome is OrderOutcome.FAILED}
    assert shown == failing
    # A preview: nothing booked, the failures still waiting for the real sync.
    assert {row.qb_id for row in app.ledger.booked_by_run(preview.run_id)} == set()
    assert {row.qb_id for row in app.ledger.booked_by_run(failed.run_id)} == booked
    assert set(app.runs.failed_order_numbers(connection.id)) == failing
