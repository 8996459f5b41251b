"""Platform operators' view of reseller directories (public admin), read only: changes belong to the partners."""

from django.contrib import admin

from resellers.models import ResellerLink


@admin.register(ResellerLink)
class ResellerLinkAdmin(admin.ModelAdmin):
    list_display = ["large_account_reseller", "display_name", "email", "status", "customers_visible", "invited_at"]
    list_filter = ["status", "customers_visible"]
    search_fields = ["large_account_reseller__name", "reseller__name", "email", "organisation_name"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
