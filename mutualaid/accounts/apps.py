from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mutualaid.accounts"
    label = "accounts"
    verbose_name = "Organisations and people"

    def ready(self):
        from django.contrib import admin
        from django_otp.admin import OTPAdminSite

        from . import checks, signals  # noqa: F401  (register checks and receivers)

        # The admin shows everything, so it too needs a verified second factor.
        admin.site.__class__ = OTPAdminSite
