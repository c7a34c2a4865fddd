"""Benchmark: peak memory of a dry run over a 100,000-order file, against the file's size.

Run: `.venv/bin/pytest -m bench tests/bench/bench_memory.py -s`. The dry run goes in a child
process (tests/bench/dry_run_peak.py) against a local sandbox company in this one, and reports
its peak resident memory (VmHWM); so does a second child that only imports the app: the floor
any run pays, measured in the same session on the same machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connex_desktop.sandbox.server import SandboxServer
from tests.bench.dry_run_peak import MARKER
from tests.bench.orders import generate_orders, write_orders_csv

pytestmark = pytest.mark.bench

ORDER_COUNT = 100_000
TARGET_PEAK_MB = 250
MB = 1024 * 1024
REPOSITORY = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_S = 900


def _child(*args: str, sandbox: SandboxServer) -> dict[str, Any]:
    connect = {name: getattr(sandbox, name) for name in (
        "base_url", "client_id", "realm_id", "client_secret", "refresh_token")}
    done = subprocess.run([sys.executable, "-m", "tests.bench.dry_run_peak", *args],
                          input=json.dumps(connect), capture_output=True, text=True,
                          cwd=REPOSITORY, timeout=CHILD_TIMEOUT_S, check=True)
    line = next(line for line in done.stdout.splitlines() if line.startswith(MARKER))
    return json.loads(line.removeprefix(MARKER))


def test_dry_run_peak_memory_is_flat_in_the_files_size(tmp_path):
    csv_path = write_orders_csv(tmp_path / "orders.csv", generate_orders(ORDER_COUNT))
    with SandboxServer(rate_limits=False) as sandbox:
        baseline = _child(sandbox=sandbox)
        reading = _child("--read", str(csv_path), sandbox=sandbox)
        run = _child(str(csv_path), sandbox=sandbox)
    file_mb = csv_path.stat().st_size / MB
    peak_mb, floor_mb = run["peak_bytes"] / MB, baseline["peak_bytes"] / MB
    figures = {"orders": ORDER_COUNT, "file_mb": round(file_mb, 1),
               "baseline_peak_mb": round(floor_mb, 1), "dry_run_peak_mb": round(peak_mb, 1),
               "above_baseline_mb": round(peak_mb - floor_mb, 1),
               "above_baseline_per_file_mb": round((peak_mb - floor_mb) / file_mb, 2),
               "dry_run_wall_s": run["wall_s"],
               "read_only_peak_mb": round(reading["peak_bytes"] / MB, 1),
               "read_only_wall_s": reading["wall_s"]}
    (tmp_path / "bench_memory.json").write_text(json.dumps(figures, indent=2))
    print()
    print(f"Dry run of {ORDER_COUNT:,} orders from a {file_mb:.1f} MB order file")
    print(f"  peak: {peak_mb:.1f} MB (target under {TARGET_PEAK_MB} MB); the interpreter with "
          f"the app imported: {floor_mb:.1f} MB")
    print(f"  above that: {peak_mb - floor_mb:.1f} MB, {figures['above_baseline_per_file_mb']}"
          f" × the file's size; {run['wall_s']} s")
    print(f"  reading the file alone (no engine): {figures['read_only_peak_mb']} MB peak, "
          f"{reading['wall_s']} s")
    print("BENCH_MEMORY_JSON", json.dumps(figures))
    assert (run["status"], run["planned"], run["failed"]) == ("succeeded", ORDER_COUNT, 0), run
    assert reading["read"] == ORDER_COUNT
    assert peak_mb < TARGET_PEAK_MB
