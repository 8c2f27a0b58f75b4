"""System checks: field-encryption keys are configured and valid."""

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register("security", deploy=False)
def check_field_encryption_keys(app_configs=None, **kwargs):
    from . import encryption

    has_keys = bool(
        settings.FIELD_ENCRYPTION_KEYS
        or settings.FIELD_ENCRYPTION_KEY_FILE
        or getattr(settings, "FIELD_ENCRYPTION_DEV_KEY_FILE", None)
    )
    if not has_keys:
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS or FIELD_ENCRYPTION_KEY_FILE must be set when DEBUG is off",
                hint="See docs/security.md, 'Encryption and key rotation'.",
                id="accounts.E001",
            )
        ]
    if not (settings.FIELD_ENCRYPTION_KEYS or settings.FIELD_ENCRYPTION_KEY_FILE):
        return []  # the development key file is made (with a warning) on first use
    try:
        encryption.multi_fernet()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="accounts.E002")]
    return []
