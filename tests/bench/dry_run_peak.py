"""Run in a child process by bench_memory: a dry run of an order file, a read of it, or neither.

`dry_run_peak FILE` dry-runs FILE against the sandbox named on stdin; `dry_run_peak --read FILE`
only reads its orders; with no argument it only imports the app (the baseline). Prints one
`PEAK_JSON {...}` line with the process's peak resident memory (VmHWM) in bytes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from connex_desktop.app import build_app
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sources.csv_file import CsvSource
from connex_desktop.storage.keyring_secrets import MemorySecretStore

MARKER = "PEAK_JSON"


def peak_rss_bytes() -> int:
    """The high-water mark of this process's resident memory (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def dry_run(csv_path: Path, sandbox: SimpleNamespace) -> dict[str, object]:
    from tests.bench.harness import connect_csv

    with tempfile.TemporaryDirectory() as data_dir:
        app = build_app(data_dir, secrets=MemorySecretStore())
        try:
            connection = connect_csv(app, sandbox, csv_path)
            started = time.perf_counter()
            result = app.engine().run(connection, dry_run=True)
            wall_s = time.perf_counter() - started
        finally:
            app.close()
    return {"status": result.status.value, "planned": result.synced, "failed": result.failed,
            "message": result.message, "wall_s": round(wall_s, 2)}


def read_only(csv_path: Path) -> dict[str, object]:
    started = time.perf_counter()
    source = CsvSource({"path": str(csv_path)}, {})
    read = sum(1 for _ in source.fetch_orders(OrderQuery(), CancelToken()))
    return {"read": read, "wall_s": round(time.perf_counter() - started, 2)}


def main(argv: list[str]) -> None:
    figures: dict[str, object] = {}
    if argv[1:2] == ["--read"]:
        figures = read_only(Path(argv[2]))
    elif argv[1:]:
        # The sandbox's connect attributes come on stdin, as JSON, never on the command line.
        sandbox = SimpleNamespace(**json.loads(sys.stdin.read()))
        figures = dry_run(Path(argv[1]), sandbox)
    figures["peak_bytes"] = peak_rss_bytes()
    print(MARKER, json.dumps(figures), flush=True)


if __name__ == "__main__":
    main(sys.argv)
