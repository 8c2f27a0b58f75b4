from django.contrib import admin

from .models import Area


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "latitude", "longitude", "radius_km", "gap_km", "updated_at"]
    search_fields = ["name"]
