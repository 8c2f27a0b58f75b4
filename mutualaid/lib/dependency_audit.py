"""Dependency audit: `pip-audit` over the pinned environment (.venv), as `make audit` and
the `dependency-audit` phase of .ci/run run it.

    .venv/bin/python -m mutualaid.lib.dependency_audit      # exit 0 pass/skip, 1 fail

Outcomes, decided by `judge()` from pip-audit's JSON report and exit code:

- **fail** (exit 1): a known vulnerability in any installed package; each is listed with
  its id and the versions that fix it.
- **pass**: every dependency was looked up and none has a known vulnerability.
- **skip** (exit 0, said loudly): the vulnerability service did not answer (no network,
  a registry mirror without the vulnerability data, a timeout). pip-audit itself then
  says "No known vulnerabilities found" although it checked nothing, so that is never
  reported as a pass. A partial answer (some looked up) passes or fails on what was
  found, and names what could not be checked.

Framework-free; the only outside call is the pip-audit subprocess in `run()`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclass
class Verdict:
    outcome: str
    message: str
    vulnerabilities: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.outcome == FAIL else 0


def judge(report_text: str, returncode: int, stderr: str = "") -> Verdict:
    """What a pip-audit run means. `report_text` is its `-f json` output (may be empty
    when it failed before auditing)."""
    try:
        report = json.loads(report_text) if report_text.strip() else None
    except json.JSONDecodeError:
        report = None
    if not isinstance(report, dict) or "dependencies" not in report:
        why = (stderr.strip().splitlines() or ["no report"])[-1][:300]
        return Verdict(
            SKIP,
            f"dependency audit SKIPPED: pip-audit could not reach the vulnerability service "
            f"(exit {returncode}: {why})",
        )
    audited, unchecked, found = 0, [], []
    for dep in report["dependencies"]:
        name = f"{dep.get('name')} {dep.get('version', '')}".strip()
        if dep.get("skip_reason"):
            unchecked.append(name)
            continue
        audited += 1
        for vuln in dep.get("vulns") or []:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            found.append(f"{name}: {vuln.get('id')} (fixed in {fixes})")
    if found:
        return Verdict(
            FAIL,
            f"dependency audit FAILED: {len(found)} known vulnerabilit"
            f"{'y' if len(found) == 1 else 'ies'} in {audited} audited packages",
            vulnerabilities=found,
            unchecked=unchecked,
        )
    if audited == 0:
        return Verdict(
            SKIP,
            "dependency audit SKIPPED: the vulnerability service answered for none of the "
            f"{len(unchecked)} packages (offline, or a registry mirror without vulnerability "
            "data); nothing was checked",
            unchecked=unchecked,
        )
    note = f"; {len(unchecked)} could not be looked up" if unchecked else ""
    return Verdict(
        PASS,
        f"dependency audit passed: no known vulnerabilities in {audited} packages{note}",
        unchecked=unchecked,
    )


def run(*, timeout: int = 30, services: tuple[str, ...] = ("pypi", "osv")) -> Verdict:
    """pip-audit over the environment this Python runs in (the project's .venv), asking
    PyPI's vulnerability data first and OSV when PyPI answered for nothing."""
    skipped = []
    for service in services:
        verdict = _run_one(service, timeout=timeout)
        if verdict.outcome != SKIP:
            return verdict
        skipped.append(verdict.message.removeprefix("dependency audit SKIPPED: "))
    return Verdict(SKIP, "dependency audit SKIPPED: " + "; ".join(skipped or ["no service"]))


def _run_one(service: str, *, timeout: int) -> Verdict:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [
        str(pip_audit),
        "--vulnerability-service",
        service,
        "--local",
        "--skip-editable",  # the project itself is not on PyPI
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--timeout",
        str(timeout),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout * 20)
    except FileNotFoundError:
        return Verdict(FAIL, f"{pip_audit} is missing: run `make setup`")
    except subprocess.TimeoutExpired:
        return Verdict(SKIP, "dependency audit SKIPPED: pip-audit did not finish in time")
    verdict = judge(done.stdout, done.returncode, done.stderr)
    verdict.message += f" [{service}]"
    return verdict


def main() -> int:
    verdict = run()
    print(verdict.message)
    for line in verdict.vulnerabilities:
        print(f"  {line}")
    if verdict.unchecked and verdict.outcome != SKIP:
        print(f"  not looked up: {', '.join(verdict.unchecked)}")
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
