import os
import subprocess
import sys

# A syntactically valid Fernet key for subprocess checks (never used for real data).
TEST_FERNET_KEY = "dGVzdC1vbmx5LWtleS0tdGVzdC1vbmx5LWtleS0tLS0="


def run_mutualaid(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "mutualaid", *args], env=env, capture_output=True, text=True
    )


def test_production_settings_pass_check_deploy(tmp_path):
    proc = run_mutualaid(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 60 + "-Prod-Key-9f8e7d6c5b4a",
        ALLOWED_HOSTS="meetings.example.org",
        MUTUALAID_VAR_DIR=str(tmp_path),
        FIELD_ENCRYPTION_KEYS=TEST_FERNET_KEY,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    proc = run_mutualaid("check", DEBUG="0", SECRET_KEY="", MUTUALAID_VAR_DIR=str(tmp_path))
    assert proc.returncode != 0
    assert "SECRET_KEY must be set" in proc.stderr


def test_production_refuses_to_start_without_field_encryption_keys(tmp_path):
    proc = run_mutualaid(
        "check",
        DEBUG="0",
        SECRET_KEY="x" * 60 + "-Prod-Key-9f8e7d6c5b4a",
        ALLOWED_HOSTS="meetings.example.org",
        MUTUALAID_VAR_DIR=str(tmp_path),
        FIELD_ENCRYPTION_KEYS="",
        FIELD_ENCRYPTION_KEY_FILE="",
    )
    assert proc.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE must be set" in proc.stderr
    assert not (tmp_path / "field-keys").exists()


def test_production_check_rejects_an_invalid_field_encryption_key(tmp_path):
    proc = run_mutualaid(
        "check",
        DEBUG="0",
        SECRET_KEY="x" * 60 + "-Prod-Key-9f8e7d6c5b4a",
        ALLOWED_HOSTS="meetings.example.org",
        MUTUALAID_VAR_DIR=str(tmp_path),
        FIELD_ENCRYPTION_KEYS="not-a-fernet-key",
    )
    assert proc.returncode != 0
    assert "accounts.E002" in proc.stderr + proc.stdout
