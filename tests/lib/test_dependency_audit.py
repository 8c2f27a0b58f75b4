"""`make audit` / the CI dependency-audit phase: what a pip-audit report means."""

import json

from mutualaid.lib.dependency_audit import FAIL, PASS, SKIP, judge


def report(*deps):
    return json.dumps({"dependencies": list(deps), "fixes": []})


def ok(name, version="1.0"):
    return {"name": name, "version": version, "vulns": []}


def unchecked(name):
    return {"name": name, "skip_reason": f"Dependency not found on PyPI: {name} (1.0)"}


def test_a_known_vulnerability_fails_and_is_named():
    bad = ok("django", "5.2.0")
    bad["vulns"] = [{"id": "PYSEC-2026-1", "fix_versions": ["5.2.9"], "aliases": []}]
    verdict = judge(report(ok("segno"), bad), returncode=1)
    assert verdict.outcome == FAIL and verdict.exit_code == 1
    assert verdict.vulnerabilities == ["django 5.2.0: PYSEC-2026-1 (fixed in 5.2.9)"]


def test_everything_looked_up_and_clean_passes():
    verdict = judge(report(ok("django"), ok("segno")), returncode=0)
    assert verdict.outcome == PASS and verdict.exit_code == 0
    assert "no known vulnerabilities in 2 packages" in verdict.message


def test_a_service_that_answered_for_nothing_is_a_skip_not_a_pass():
    # What a registry mirror without vulnerability data gives: pip-audit exits 0 and says
    # "No known vulnerabilities found", having checked nothing.
    verdict = judge(report(unchecked("django"), unchecked("segno")), returncode=0)
    assert verdict.outcome == SKIP and verdict.exit_code == 0
    assert "SKIPPED" in verdict.message and "nothing was checked" in verdict.message


def test_no_network_at_all_is_a_skip_with_the_reason():
    verdict = judge("", returncode=1, stderr="ConnectionError: Max retries exceeded\n")
    assert verdict.outcome == SKIP and "Max retries exceeded" in verdict.message


def test_a_partial_answer_still_fails_on_what_it_found():
    bad = ok("cryptography", "1.0")
    bad["vulns"] = [{"id": "GHSA-x", "fix_versions": []}]
    verdict = judge(report(unchecked("segno"), bad), returncode=1)
    assert verdict.outcome == FAIL and "no fixed version yet" in verdict.vulnerabilities[0]
    assert verdict.unchecked == ["segno"]
    clean = judge(report(unchecked("segno"), ok("django")), returncode=0)
    assert clean.outcome == PASS and "1 could not be looked up" in clean.message
