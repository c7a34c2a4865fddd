"""The double-click app: the bundle runs the self-check, the demo and the window, headless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from connex_desktop import __version__
from connex_desktop.ui.probe import STARTUP_MARKER
from tests.bundle import Bundle, build_bundle, user_environment

pytestmark = pytest.mark.slow

RUN_TIMEOUT_S = 120
# One folder measured 175 MB here (PySide6-Essentials is most of it); a jump past this means
# something unused was swept in (another Qt module, Pillow, numpy, the test tools).
BUNDLE_BUDGET_MB = 220
ONEFILE_TEST_ENV = "CONNEX_TEST_ONEFILE"


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                          env={**user_environment(), "QT_QPA_PLATFORM": "offscreen", **env})


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Bundle:
    built = build_bundle(tmp_path_factory.mktemp("onefolder"))
    print(f"\none-folder bundle: built in {built.build_s:.0f} s, "
          f"{built.size_bytes / 1e6:.0f} MB at {built.folder}")
    return built


def check_self_check(executable: Path, data_dir: Path) -> list[str]:
    done = run([str(executable), "--data-dir", str(data_dir), "--self-check"])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"ok    version      connex-desktop {__version__}")
    assert "app bundle at" in lines[0]
    by_name = {line[6:19].strip(): line for line in lines[:-1]}
    assert by_name["Qt platform"].startswith("ok ") and "SVG icons draw" in by_name["Qt platform"]
    assert by_name["resources"].startswith("ok ")
    assert by_name["keyring"].startswith(("ok ", "warn "))  # the machine's keychain
    assert by_name["demo sync"].startswith("ok ") and "Invoice" in by_name["demo sync"]
    assert lines[-1].startswith("self-check passed: 8 checks")
    return lines


def test_self_check_passes_from_the_bundle(bundle, tmp_path):
    lines = check_self_check(bundle.executable, tmp_path / "data")
    resources = next(line for line in lines if line.startswith("ok    resources"))
    assert str(bundle.folder) in resources  # the bundle's own copy, not the source tree's


def test_demo_from_the_bundle_books_what_the_source_books(bundle, tmp_path):
    demo = ["demo", "--orders", "4", "--json"]
    frozen = run([str(bundle.executable), "--data-dir", str(tmp_path / "frozen"), *demo])
    source = run([sys.executable, "-m", "connex_desktop", "--data-dir", str(tmp_path / "source"),
                  *demo])
    assert frozen.returncode == 0, frozen.stdout + frozen.stderr
    result = json.loads(frozen.stdout)
    assert result["status"] == "succeeded"
    assert result["orders"]["fetched"] == 4 and result["orders"]["failed"] == 0
    kinds = {document["kind"] for document in result["documents"]}
    assert {"Invoice", "Payment"} <= kinds
    assert all(document["total"].count(".") == 1 and len(document["total"].split(".")[1]) == 2
               for document in result["documents"])  # money to the cent, as text
    # The same books as from source; QuickBooks Ids may differ (writes run in parallel).
    assert booked(json.loads(source.stdout)) == booked(result)


def booked(result: dict) -> tuple:
    documents = sorted((doc["order"], doc["kind"], doc["doc_number"], doc["total"])
                       for doc in result["documents"])
    return result["status"], result["orders"], documents, result["errors"]


def test_window_opens_from_the_bundle(bundle, tmp_path):
    done = run([str(bundle.executable), "--data-dir", str(tmp_path / "data")],
               CONNEX_MEASURE_STARTUP="1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert STARTUP_MARKER in done.stdout


def test_bundle_stays_lean(bundle):
    assert bundle.size_bytes < BUNDLE_BUDGET_MB * 1e6
    internal = bundle.folder / "_internal"
    assert not (internal / "PIL").exists() and not (internal / "tkinter").exists()
    assert not (internal / "PySide6" / "Qt" / "translations").exists()
    assert (internal / "resources" / "icons" / "tray-syncing.svg").is_file()


@pytest.mark.skipif(os.environ.get(ONEFILE_TEST_ENV) != "1",
                    reason=f"the one-file build takes another ~100 s; set {ONEFILE_TEST_ENV}=1")
def test_one_file_variant_passes_the_self_check(tmp_path_factory, tmp_path):
    onefile = build_bundle(tmp_path_factory.mktemp("onefile"), onefile=True)
    print(f"\none-file bundle: built in {onefile.build_s:.0f} s, "
          f"{onefile.executable.stat().st_size / 1e6:.0f} MB")
    assert sorted(path.name for path in onefile.folder.iterdir()) == [onefile.executable.name]
    check_self_check(onefile.executable, tmp_path / "data")
