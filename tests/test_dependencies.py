"""The lock files: every declared dependency pinned with hashes, installed as locked, audited."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
import zipfile
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
APP_LOCK = ROOT / "requirements-app.lock"
SETUP_SECONDS = 300


def locked(path: Path) -> dict[str, tuple[Requirement, list[str]]]:
    """name -> (the pinned requirement with its marker, its hashes)."""
    entries = {}
    text = path.read_text().replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split(" --hash=")
        requirement = Requirement(words[0])
        entries[canonicalize_name(requirement.name)] = (requirement, words[1:])
    return entries


def pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned"
    return specifier.version


def declared() -> tuple[list[Requirement], list[Requirement]]:
    """(what the app needs to run and be built, what the test and build extras add)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    runtime = [*project["project"]["dependencies"], *project["build-system"]["requires"]]
    extras = project["project"]["optional-dependencies"]
    return ([Requirement(r) for r in runtime],
            [Requirement(r) for r in extras["test"] + extras["build"]])


def test_the_locks_pin_every_declared_dependency_with_hashes():
    runtime, tools = declared()
    full, app = locked(LOCK), locked(APP_LOCK)
    for lock, wanted in ((full, runtime + tools), (app, runtime)):
        for requirement in wanted:
            name = canonicalize_name(requirement.name)
            assert name in lock, f"{requirement.name} is declared but not locked"
            version = pinned_version(lock[name][0])
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{requirement.name} {version} does not satisfy {requirement.specifier}")
    for lock in (full, app):
        for name, (requirement, hashes) in lock.items():
            pinned_version(requirement)
            assert hashes and all(h.startswith("sha256:") for h in hashes), name
    # The app alone is the same versions as the full set, so the demo runs what CI tested.
    for name, (requirement, _hashes) in app.items():
        assert pinned_version(requirement) == pinned_version(full[name][0]), name


def test_this_environment_is_the_locked_set():
    """scripts/test (so CI) ran scripts/setup: what the tests import is what the lock pins."""
    for name, (requirement, _hashes) in locked(LOCK).items():
        if requirement.marker is None or requirement.marker.evaluate():
            assert importlib.metadata.version(name) == pinned_version(requirement), name


def wheel(folder: Path, name: str, version: str, code: str) -> Path:
    """A minimal pure-Python wheel, made here so pip needs no index."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {f"{name}.py": code,
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                              "Tag: py3-none-any\n"}
    record = "".join(f"{file},sha256={_record_digest(text)},{len(text.encode())}\n"
                     for file, text in files.items())
    with zipfile.ZipFile(path, "w") as archive:
        for file, text in {**files, f"{info}/RECORD": record + f"{info}/RECORD,,\n"}.items():
            archive.writestr(file, text)
    return path


def repacked(name: str, folder: Path) -> Path:
    """An installed pure-Python distribution as a wheel file again, for pip with no index."""
    distribution = importlib.metadata.distribution(name)
    path = folder / f"{name}-{distribution.version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for file in distribution.files or []:
            if "__pycache__" not in file.parts and ".." not in file.parts:
                archive.write(file.locate(), str(file))
    return path


def _record_digest(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_setup(project: Path, wheels: Path, *, keep_venv: bool = False
              ) -> subprocess.CompletedProcess:
    if not keep_venv:
        shutil.rmtree(project / ".venv", ignore_errors=True)
    # Offline: pip sees only the wheels folder, not this machine's configured indexes.
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1",
           "PIP_FIND_LINKS": str(wheels)}
    return subprocess.run(["bash", str(project / "scripts" / "setup")], env=env, text=True,
                          capture_output=True, timeout=SETUP_SECONDS, check=False)


def scratch_project(tmp_path: Path, locked: Sequence[str] = ("setuptools",)
                    ) -> tuple[Path, Path, Path]:
    """A project with scripts/setup, a lock of `locked` (as installed here, repacked) and
    tinydep 1.0, and the folder of wheels pip finds them in; and tinydep's wheel, kept apart."""
    project, wheels = tmp_path / "project", tmp_path / "wheels"
    (project / "scripts").mkdir(parents=True)
    wheels.mkdir()
    shutil.copy(ROOT / "scripts" / "setup", project / "scripts" / "setup")
    (project / "scratch_app.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "scratch-app"\nversion = "1.0"\ndependencies = ["tinydep"]\n'
        '[tool.setuptools]\npy-modules = ["scratch_app"]\n')
    good = wheel(tmp_path, "tinydep", "1.0", "GOOD = True\n")
    lines = [f"{name}=={importlib.metadata.version(name)} "
             f"--hash=sha256:{sha256(repacked(name, wheels))}" for name in locked]
    (project / "requirements-app.lock").write_text(
        "\n".join([*lines, f"tinydep==1.0 --hash=sha256:{sha256(good)}"]) + "\n")
    return project, wheels, good


def test_setup_installs_the_lock_and_refuses_a_file_that_does_not_match_it(tmp_path):
    project, wheels, good = scratch_project(tmp_path)
    venv_python = project / ".venv" / "bin" / "python"

    # A file that is not the one locked (a changed or substituted release) is refused.
    wheel(wheels, "tinydep", "1.0", "GOOD = False\n")
    refused = run_setup(project, wheels)
    assert refused.returncode != 0
    assert "DO NOT MATCH THE HASHES" in refused.stderr

    shutil.copy(good, wheels)
    done = run_setup(project, wheels)
    assert done.returncode == 0, done.stderr
    check = subprocess.run(
        [str(venv_python), "-c", "import importlib.metadata as m, tinydep, scratch_app; "
         "print(m.version('tinydep'), tinydep.GOOD, m.version('scratch-app'))"],
        capture_output=True, text=True, check=True)
    assert check.stdout.split() == ["1.0", "True", "1.0"]


def test_setup_says_nothing_when_all_goes_well(tmp_path):
    # The locked pip (the test tools' lock has one) is the one that passes on the build's
    # warnings, e.g. setuptools' "Editable installation" notice: nothing a user can act on.
    project, wheels, good = scratch_project(tmp_path, locked=("pip", "setuptools"))
    shutil.copy(good, wheels)
    first, again = run_setup(project, wheels), run_setup(project, wheels, keep_venv=True)
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert (first.stdout + first.stderr, again.stdout + again.stderr) == ("", "")


class FakeOsv(BaseHTTPRequestHandler):
    """OSV's query API on loopback: `tinydep` 1.0 has one known vulnerability."""

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        vulnerable = query["package"]["name"] == "tinydep" and query["version"] == "1.0"
        body = json.dumps({"vulns": [{
            "id": "GHSA-test-0001", "summary": "tinydep runs arbitrary code",
            "affected": [{"package": {"name": "tinydep", "ecosystem": "PyPI"},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": "1.1"}]}]}],
        }]} if vulnerable else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def osv_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOsv)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))      # bound, never listening: connections are refused
        yield f"http://127.0.0.1:{probe.getsockname()[1]}/v1/query"


def audit(lock: Path, osv_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "audit.py"), "--lock", str(lock),
                           "-s", "osv", "--osv-url", osv_url],
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_audit_fails_on_a_known_vulnerability_and_skips_when_offline(tmp_path, osv_url,
                                                                         closed_url):
    some_hash = "--hash=sha256:" + "0" * 64
    vulnerable, clean = tmp_path / "vulnerable.lock", tmp_path / "clean.lock"
    vulnerable.write_text(f"tinydep==1.0 {some_hash}\nsafedep==2.0 {some_hash}\n")
    clean.write_text(f"tinydep==1.1 {some_hash}\nsafedep==2.0 {some_hash}\n")

    failed = audit(vulnerable, osv_url)
    assert failed.returncode == 1
    assert "tinydep 1.0: GHSA-test-0001 (fixed in 1.1)" in failed.stdout
    assert "audit failed: 1 package(s) in vulnerable.lock" in failed.stdout

    passed = audit(clean, osv_url)
    assert passed.returncode == 0
    assert "audit: no known vulnerability in 2 package(s) of clean.lock" in passed.stdout

    skipped = audit(vulnerable, closed_url)
    assert skipped.returncode == 0
    assert skipped.stdout.startswith("audit skipped: the vulnerability service cannot be reached")
