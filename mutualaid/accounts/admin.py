from django.contrib import admin
from django.utils import timezone

from mutualaid.audit.services import record_event

from .models import AccessGrant, ApiToken, Membership, Organisation, Team


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "area", "created_at"]
    search_fields = ["name", "slug", "area"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation"]
    list_filter = ["organisation"]
    search_fields = ["name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "team", "role", "area", "created_at"]
    list_filter = ["role", "organisation"]
    search_fields = ["user__username"]
    autocomplete_fields = ["user"]


@admin.register(AccessGrant)
class AccessGrantAdmin(admin.ModelAdmin):
    """Break-glass grants: who, for which organisation, until when; granting and revoking
    are audited. The reason is encrypted at rest (shown here to administrators)."""

    list_display = ["user", "organisation", "granted_by", "created_at", "expires_at", "revoked_at"]
    list_filter = ["organisation"]
    readonly_fields = ["granted_by", "created_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
        record_event(
            actor=request.user,
            action="access_granted",
            target=obj,
            request=request,
            organisation=obj.organisation,
            detail={"for_user": obj.user_id, "expires_at": obj.expires_at.isoformat()},
        )

    @admin.action(description="Revoke the selected grants now")
    def revoke(self, request, queryset):
        for grant in queryset.filter(revoked_at__isnull=True):
            grant.revoked_at = timezone.now()
            grant.save(update_fields=["revoked_at"])
            record_event(
                actor=request.user,
                action="access_revoked",
                target=grant,
                request=request,
                organisation=grant.organisation,
            )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by their owner (security page) or `mutualaid tokens issue`."""

    list_display = ["prefix", "name", "user", "scopes", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    readonly_fields = [f.name for f in ApiToken._meta.fields]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected tokens now")
    def revoke(self, request, queryset):
        from .api_auth import revoke_token

        for token in queryset.filter(revoked_at__isnull=True):
            revoke_token(token, actor=request.user, request=request)
