from django.contrib import admin
from django_tenants.admin import TenantAdminMixin

from portal.partners.models import Domain, Partner


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Partner)
class PartnerAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "is_service_provider", "is_large_account_reseller", "status", "region", "created"]
    list_filter = ["status", "is_service_provider", "is_large_account_reseller", "region"]
    search_fields = ["name", "slug", "owner_email"]
    readonly_fields = ["schema_name", "created"]
    inlines = [DomainInline]

    def has_add_permission(self, request) -> bool:
        # A partner needs a schema and an administrator: `manage.py create_partner` provisions both.
        return False
