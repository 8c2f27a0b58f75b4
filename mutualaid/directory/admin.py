from django.contrib import admin

from .models import Fellowship, ImportRun, Meeting, Source


@admin.register(Fellowship)
class FellowshipAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "approach", "covers"]
    list_filter = ["approach"]
    search_fields = ["code", "name"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "fellowship",
        "weekday",
        "start_time",
        "timezone",
        "mode",
        "city",
        "status",
        "source",
    ]
    list_filter = ["fellowship", "mode", "status", "visibility", "weekday", "source"]
    search_fields = ["name", "slug", "location_name", "city", "postcode", "source_ref"]
    readonly_fields = ["start_minute", "week_minute", "created_at", "updated_at"]
    list_select_related = ["fellowship", "source"]


class ImportRunInline(admin.TabularInline):
    model = ImportRun
    extra = 0
    can_delete = False
    readonly_fields = [
        "started_at",
        "finished_at",
        "status",
        "created",
        "updated",
        "unchanged",
        "removed",
        "rejected",
        "warnings",
        "error",
    ]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "format", "location", "default_timezone", "last_imported_at"]
    readonly_fields = ["etag", "last_modified"]
    inlines = [ImportRunInline]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "started_at",
        "status",
        "created",
        "updated",
        "unchanged",
        "removed",
        "error",
    ]
    list_filter = ["source", "status"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]
