from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mutualaid.accounts"
    label = "accounts"
    verbose_name = "Organisations and people"
