"""`mutualaid serve` starts gunicorn: a real server in a subprocess, asked over HTTP."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_runs_gunicorn(tmp_path):
    port = free_port()
    env = {**os.environ, "MUTUALAID_VAR_DIR": str(tmp_path), "DEBUG": "1"}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "mutualaid", "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "mutualaid", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/api/v1/types")
                response = conn.getresponse()
                body = response.read()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read().decode()
                assert time.monotonic() < deadline, "gunicorn did not answer within 90 s"
                time.sleep(0.3)
        assert response.status == 200 and b'"key"' in body
        assert response.getheader("Server", "").startswith("gunicorn")
        conn.request("GET", "/static/mutualaid/site.css", headers={"Accept-Encoding": "gzip"})
        static = conn.getresponse()
        static.read()
        assert static.status == 200 and static.getheader("Content-Encoding") == "gzip"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert "Booting worker" in output and "Starting gunicorn" in output
