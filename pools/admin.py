"""Platform operators' view of pools (public admin). Writes go through `manage.py create_pool` and the
console's screens, which enforce the pool rules and audit in the partners' trails."""

from django.contrib import admin

from pools.models import Pool, PoolAllocation


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Pool)
class PoolAdmin(ReadOnlyAdmin):
    list_display = ["name", "owner", "service", "source", "payment_type", "seats", "expires_on", "status"]
    list_filter = ["status", "service", "source", "payment_type"]
    search_fields = ["name", "owner__name", "owner__slug"]


@admin.register(PoolAllocation)
class PoolAllocationAdmin(ReadOnlyAdmin):
    list_display = ["pool", "reseller", "payment_type", "seats", "expires_on", "status", "created"]
    list_filter = ["status", "payment_type"]
    search_fields = ["pool__name", "reseller__name", "reseller__slug"]
