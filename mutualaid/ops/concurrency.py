"""Optimistic concurrency for records people edit (docs/reliability.md).

Each edited model has a `version` integer. An edit names the version it started from;
claim_version moves the row to the next version in one conditional UPDATE
(`... WHERE pk = ? AND version = ?`), so of two edits started from the same version
exactly one wins on any database, and the other gets EditConflict with nothing written.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext as _


class EditConflict(ValidationError):
    """Someone else saved the record after this edit began; nothing of this edit was saved."""

    def __init__(self, what: str, *, expected: int, current: int | None):
        self.expected, self.current = expected, current
        if current is None:
            message = _("%(what)s was deleted while you were editing it. Nothing was saved.") % {
                "what": what
            }
        else:
            message = _(
                "%(what)s was changed by someone else while you were editing it (you started "
                "from version %(expected)s, it is now version %(current)s). Nothing was saved: "
                "reload it, check their changes and make yours again."
            ) % {"what": what, "expected": expected, "current": current}
        super().__init__(message, code="conflict")


def claim_version(instance: models.Model, expected: int | None, *, what: str = "") -> int:
    """Advance instance's row to the next version; with expected, only from that version.

    Must run inside the transaction that writes the edit (so a later failure rolls the
    claim back too). Sets instance.version to the new value and returns it; raises
    EditConflict when the stored version is not `expected`.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("claim_version must run inside transaction.atomic()")
    model = type(instance)
    rows = model.objects.filter(pk=instance.pk)
    if expected is not None:
        try:
            expected = int(expected)
        except (TypeError, ValueError):
            expected = -1
        claimed = rows.filter(version=expected).update(version=F("version") + 1)
        if claimed != 1:
            current = rows.values_list("version", flat=True).first()
            raise EditConflict(
                what or str(model._meta.verbose_name).capitalize(),
                expected=expected,
                current=current,
            )
    else:
        rows.update(version=F("version") + 1)
    instance.version = rows.values_list("version", flat=True).get()
    return instance.version
