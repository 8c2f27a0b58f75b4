from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "mutualaid.directory"
    label = "directory"
    verbose_name = "Meeting directory"

    def ready(self):
        # Connects the signals that move the directory generation (cached searches, feeds).
        from . import cache  # noqa: F401
