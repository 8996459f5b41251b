from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from portal.authentication.services_mfa import totp_code_now
from portal.partners.selectors import partner_by_slug


class Command(BaseCommand):
    help = (
        "Print the current authenticator code of a demo user (only users enrolled with the demo's published "
        "secret by seed_demo, so it reveals nothing about real users)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="admin")
        parser.add_argument("--partner", default="demo", help="partner slug (default: demo)")

    def handle(self, *args, username: str, partner: str, **options):
        found = partner_by_slug(slug=partner)
        if found is None:
            raise CommandError(f"No partner {partner!r}.")
        with schema_context(found.schema_name):
            user = get_user_model().objects.filter(username=username).first()
            code = totp_code_now(user=user) if user is not None else None
        if code is None:
            raise CommandError(f"{username} at {partner} has no demo authenticator.")
        self.stdout.write(code)
