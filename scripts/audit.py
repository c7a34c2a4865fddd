"""Checks the locked dependencies for known vulnerabilities (pip-audit); skips, saying so, offline.

    .venv/bin/python scripts/audit.py [--lock FILE] [pip-audit options, e.g. -s osv]

Exit 1 when a locked package has a known vulnerability; 0 with an 'audit skipped: …' line when
the vulnerability service cannot be reached or has no answer for any package (as on a machine
that reaches only a package index); 2 when pip-audit fails in another way.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"
# How pip-audit fails when its service is out of reach (it raises; nothing is reported).
UNREACHABLE = ("ConnectionError", "ConnectTimeout", "ReadTimeout", "NameResolutionError",
               "Max retries exceeded", "ServiceError")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=LOCK)
    args, pip_audit_options = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "audit.json"
        # The lock is complete and hashed: pip-audit reads it as it is, resolving nothing.
        run = subprocess.run(
            [sys.executable, "-m", "pip_audit", "--requirement", str(args.lock),
             "--require-hashes", "--disable-pip", "--progress-spinner", "off", "--timeout", "10",
             "--format", "json", "--output", str(report), *pip_audit_options],
            capture_output=True, text=True, check=False)
        found = report.read_text() if report.exists() else ""
    if not found:
        last_line = (run.stderr.strip().splitlines() or ["no output"])[-1]
        if any(sign in run.stderr for sign in UNREACHABLE):
            print(f"audit skipped: the vulnerability service cannot be reached ({last_line})")
            return 0
        print(run.stderr, file=sys.stderr)
        print(f"audit failed to run: {last_line}")
        return 2
    return verdict(json.loads(found)["dependencies"], args.lock.name)


def verdict(dependencies: list[dict], lock_name: str) -> int:
    """Print what the audit found; 1 if any locked package has a known vulnerability."""
    vulnerable = [d for d in dependencies if d.get("vulns")]
    unchecked = [d for d in dependencies if "skip_reason" in d]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} "
                  f"(fixed in {fixed})")
    if vulnerable:
        print(f"audit failed: {len(vulnerable)} package(s) in {lock_name} have known "
              "vulnerabilities; scripts/lock --upgrade-package NAME moves one to a fixed "
              "release.")
        return 1
    if unchecked and len(unchecked) == len(dependencies):
        print(f"audit skipped: the vulnerability service had no answer for any of the "
              f"{len(unchecked)} packages in {lock_name} ({unchecked[0]['skip_reason']})")
        return 0
    checked = len(dependencies) - len(unchecked)
    print(f"audit: no known vulnerability in {checked} package(s) of {lock_name}"
          + (f"; not checked: {', '.join(d['name'] for d in unchecked)}" if unchecked else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
