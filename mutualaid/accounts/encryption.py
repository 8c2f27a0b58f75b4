"""Field-level encryption at rest: Fernet (AES-128-CBC + HMAC-SHA256) via `cryptography`.

Keys come from, in order:

1. ``FIELD_ENCRYPTION_KEYS``: comma-separated Fernet keys; the first encrypts, all decrypt;
2. ``FIELD_ENCRYPTION_KEY_FILE``: a file with one key a line (``#`` comments allowed),
   the first line encrypts;
3. with DEBUG on and neither set (decided when settings load): a development key
   generated once in ``VAR_DIR/field-keys`` (``FIELD_ENCRYPTION_DEV_KEY_FILE``; mode 600,
   under var/ which git ignores), with a warning.

With DEBUG off and no keys, settings refuse to load and the ``accounts.E001`` check fails.

Encrypted columns hold Fernet tokens (random IV each time), so the database cannot compare
them: **no lookups other than ``isnull`` work on an encrypted field** (no filtering,
ordering, uniqueness or search by content). Look records up by id or by an unencrypted
column; `mutualaid rotate-keys` re-encrypts every encrypted value under the current key.

Generate a key: ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

logger = logging.getLogger(__name__)

__all__ = [
    "EncryptedCharField",
    "EncryptedTextField",
    "InvalidToken",
    "current_fernet",
    "decrypt",
    "encrypt",
    "encrypted_fields",
    "key_source",
    "multi_fernet",
]


def _parse_key_lines(text: str) -> list[str]:
    keys = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.append(line)
    return keys


def _dev_key_file(path: Path) -> Path:
    """Create (once, atomically even with parallel workers) and return the dev key file."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("# Development field-encryption key. Never commit; never use in production.\n")
        fh.write(Fernet.generate_key().decode() + "\n")
    try:
        os.link(tmp, path)  # fails if another process won the race: then use theirs
        logger.warning("Generated a development field-encryption key in %s", path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _configured_keys() -> tuple[tuple[str, ...], str]:
    """The keys (current first) and a description of where they came from."""
    env_keys = tuple(k for k in getattr(settings, "FIELD_ENCRYPTION_KEYS", []) or [] if k)
    if env_keys:
        return env_keys, "FIELD_ENCRYPTION_KEYS"
    key_file = getattr(settings, "FIELD_ENCRYPTION_KEY_FILE", None)
    if key_file:
        try:
            text = Path(key_file).read_text()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEY_FILE {key_file} cannot be read: {exc}"
            ) from exc
        return tuple(_parse_key_lines(text)), f"FIELD_ENCRYPTION_KEY_FILE {key_file}"
    dev_file = getattr(settings, "FIELD_ENCRYPTION_DEV_KEY_FILE", None)
    if dev_file:
        path = _dev_key_file(Path(dev_file))
        return tuple(_parse_key_lines(path.read_text())), f"development key file {path}"
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE must be set when DEBUG is off"
    )


@functools.lru_cache(maxsize=8)
def _build(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    if not keys:
        raise ImproperlyConfigured("no field-encryption key configured (the key list is empty)")
    try:
        fernets = [Fernet(k.encode() if isinstance(k, str) else k) for k in keys]
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "a field-encryption key is not a valid Fernet key (32 url-safe base64 bytes)"
        ) from exc
    return MultiFernet(fernets), fernets[0]


def _keys() -> tuple[str, ...]:
    return _configured_keys()[0]


def key_source() -> str:
    return _configured_keys()[1]


def multi_fernet() -> MultiFernet:
    """All configured keys: encrypts with the first, decrypts with any."""
    return _build(_keys())[0]


def current_fernet() -> Fernet:
    """The current (first) key alone: decrypting with it tells whether rotation is needed."""
    return _build(_keys())[1]


def encrypt(text: str) -> str:
    """Encrypt text under the current key; returns the Fernet token as text."""
    return multi_fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a token made under any configured key. Raises InvalidToken otherwise."""
    return multi_fernet().decrypt(token.encode("ascii")).decode("utf-8")


def is_current(token: str) -> bool:
    """True when the token was made under the current key (no rotation needed)."""
    try:
        current_fernet().decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """Re-encrypt a token under the current key (MultiFernet.rotate)."""
    return multi_fernet().rotate(token.encode("ascii")).decode("ascii")


class EncryptedMixin:
    """Encrypt on the way into the database, decrypt on the way out.

    The Python value is always plaintext text (or None); the column always holds a
    Fernet token (or NULL). Only ``isnull`` lookups are allowed (see module docstring).
    """

    encrypted = True

    def get_internal_type(self):
        return "TextField"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.__class__.__name__} {self.name!r} is encrypted: only isnull lookups "
                f"work ({lookup_name!r} was asked for)"
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        raise FieldError(f"{self.__class__.__name__} {self.name!r} is encrypted: no transforms")


class EncryptedTextField(EncryptedMixin, models.TextField):
    """A TextField stored encrypted. Use for free text about a client."""


class EncryptedCharField(EncryptedMixin, models.CharField):
    """A CharField whose max_length applies to the plaintext; stored as encrypted text."""

    def db_type(self, connection):
        return models.TextField().db_type(connection)

    def cast_db_type(self, connection):
        return models.TextField().cast_db_type(connection)

    def rel_db_type(self, connection):
        return models.TextField().db_type(connection)


def encrypted_fields() -> list[tuple[type[models.Model], models.Field]]:
    """Every (model, field) pair of every installed model with an encrypted field."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedMixin):
                found.append((model, field))
    return found
