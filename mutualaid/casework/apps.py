from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "mutualaid.casework"
    label = "casework"
    verbose_name = "Casework: facilitating access to mutual aid"
