"""Sync locks: one holder per connection at a time, freed when the holder lets go."""

from __future__ import annotations

from connex_desktop.storage.sync_locks import SyncLocks


def test_a_connection_has_one_holder_at_a_time_and_others_are_free(tmp_path):
    locks, elsewhere = SyncLocks(tmp_path / "locks"), SyncLocks(tmp_path / "locks")
    with locks.hold(1) as first:
        assert first
        with elsewhere.hold(1) as second, elsewhere.hold(2) as other_connection:
            assert not second
            assert other_connection
    with elsewhere.hold(1) as after_release:
        assert after_release
