from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django_tenants.admin import TenantAdminMixin

from portal.core.names import NameFormMixin, name_ensure_unique
from portal.partners.models import Domain, Partner, SchemaMigrationState


class PartnerAdminForm(NameFormMixin, forms.ModelForm):
    """Renaming a partner in the platform admin follows the rules of `partner_create`: a
    normalised name, no invisible or control characters, no look-alike of another partner."""

    class Meta:
        model = Partner
        fields = ["name"]  # the admin adds its own fields; the name is what this form checks

    def clean(self):
        cleaned = super().clean()
        name = cleaned.get("name")
        if name and "name" not in self.errors:
            try:
                name_ensure_unique(
                    name=name,
                    queryset=Partner.objects.exclude(schema_name="public"),
                    exclude_pk=self.instance.pk,
                    skeleton_field="name_skeleton",
                )
            except ValidationError as error:
                self.add_error("name", error)
        return cleaned


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Partner)
class PartnerAdmin(TenantAdminMixin, admin.ModelAdmin):
    form = PartnerAdminForm
    list_display = [
        "name",
        "slug",
        "is_service_provider",
        "is_large_account_reseller",
        "status",
        "data_centre",
        "country",
        "created",
    ]
    list_filter = ["status", "data_centre", "is_service_provider", "is_large_account_reseller", "region"]
    search_fields = ["name", "slug", "owner_email"]
    readonly_fields = ["schema_name", "created"]
    inlines = [DomainInline]

    def has_add_permission(self, request) -> bool:
        # A partner needs a schema and an administrator: `manage.py create_partner` provisions both.
        return False


@admin.register(SchemaMigrationState)
class SchemaMigrationStateAdmin(admin.ModelAdmin):
    """Read only: `manage.py migrate_partners` writes these with the migrations themselves."""

    list_display = ["schema_name", "digest", "updated", "error"]
    search_fields = ["schema_name", "error"]
    readonly_fields = ["schema_name", "digest", "error", "updated"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
