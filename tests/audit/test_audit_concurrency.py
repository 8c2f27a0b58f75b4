"""Writers in parallel still make one linear chain (PostgreSQL: advisory lock)."""

import threading

import pytest
from django.db import connection, connections

from mutualaid.audit.models import AuditEvent
from mutualaid.audit.services import record_event, verify_chain

# Committed rows are needed; on SQLite the append-only triggers would refuse the DELETE
# that empties tables after a transactional test (PostgreSQL empties them with TRUNCATE).
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL concurrency"),
]


def test_parallel_writers_make_one_linear_chain():
    errors = []

    def writer(n):
        try:
            for i in range(15):
                record_event(actor=None, action="read", target=("casework.client", n * 100 + i))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert AuditEvent.objects.count() == 60
    ok, bad, message = verify_chain()
    assert ok, message
