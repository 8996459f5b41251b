from django.contrib import admin

from signup.models import PartnerSignUp


@admin.register(PartnerSignUp)
class PartnerSignUpAdmin(admin.ModelAdmin):
    list_display = ["organisation_name", "slug", "admin_email", "country", "data_centre", "status", "step", "created"]
    list_filter = ["status", "data_centre"]
    search_fields = ["organisation_name", "slug", "admin_email"]
    exclude = ["password_hash"]
    readonly_fields = ["public_id", "partner", "invitation", "created", "email_verified_at", "provisioned_at"]

    def has_add_permission(self, request) -> bool:
        return False
