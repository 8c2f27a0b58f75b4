from django.db import models


class Organisation(models.Model):
    """A treatment service, prison, hospital or other body. Meetings held inside one
    (not open to the public) are visible only to its own staff."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
