from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "mutualaid.audit"
    label = "audit"
    verbose_name = "Audit trail"
