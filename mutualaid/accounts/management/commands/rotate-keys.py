"""`mutualaid rotate-keys`: re-encrypt every encrypted field under the current key.

Runbook (docs/security.md): put the NEW key first in FIELD_ENCRYPTION_KEYS and keep the old
ones after it; deploy (the site reads both, writes the new); run this; when it reports
nothing left to rotate, remove the old key and deploy again. Safe to run while the site
serves requests and safe to repeat: each batch is its own short transaction, each row is
rewritten only if it still holds the token that was read (compare-and-swap), and values
already under the current key are left alone.
"""

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from mutualaid.accounts import encryption
from mutualaid.audit.services import record_event


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field value under the current (first) key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--dry-run", action="store_true", help="count what needs rotating; change nothing"
        )

    def handle(self, *args, batch_size, dry_run, **options):
        total_checked = total_rotated = 0
        fields = encryption.encrypted_fields()
        for model, field in fields:
            checked, rotated = self.rotate_field(model, field, batch_size, dry_run)
            total_checked += checked
            total_rotated += rotated
            verb = "need rotating" if dry_run else "rotated"
            self.stdout.write(
                f"{model._meta.label}.{field.name}: {checked} value(s), {rotated} {verb}"
            )
        if not dry_run and total_rotated:
            record_event(
                actor=None,
                actor_label="cli:rotate-keys",
                action="keys_rotated",
                detail={"values": total_rotated, "fields": len(fields)},
            )
        self.stdout.write(
            f"{total_checked} encrypted value(s) in {len(fields)} field(s); "
            + (f"{total_rotated} need rotating" if dry_run else f"{total_rotated} rotated")
        )

    def rotate_field(self, model, field, batch_size, dry_run):
        qn = connection.ops.quote_name
        table, column, pk = qn(model._meta.db_table), qn(field.column), qn(model._meta.pk.column)
        select = (
            f"SELECT {pk}, {column} FROM {table} WHERE {pk} > %s AND {column} IS NOT NULL "
            f"ORDER BY {pk} LIMIT %s"
        )
        update = f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s"
        last_pk, checked, rotated = None, 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                if last_pk is None:
                    cursor.execute(select.replace(f"{pk} > %s AND ", ""), [batch_size])
                else:
                    cursor.execute(select, [last_pk, batch_size])
                rows = cursor.fetchall()
                for row_pk, token in rows:
                    checked += 1
                    if encryption.is_current(token):
                        continue
                    rotated += 1
                    if not dry_run:
                        cursor.execute(update, [encryption.rotate(token), row_pk, token])
            if len(rows) < batch_size:
                return checked, rotated
            last_pk = rows[-1][0]
