from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal.partners.choices import Currency, Language, Region
from portal.partners.services import ProvisioningMethod, partner_create, partner_url


class Command(BaseCommand):
    help = "Provision a partner: its schema (cloned from the template), its host and its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--slug", required=True, help="Host label: the partner is served at <slug>.<PORTAL_DOMAIN>")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--service-provider", action="store_true", help="The partner serves its own customers")
        parser.add_argument("--large-account-reseller", action="store_true", help="The partner manages resellers")
        parser.add_argument("--region", choices=Region.values, default=Region.EUROPE)
        parser.add_argument("--language", choices=Language.values, default=Language.ENGLISH)
        parser.add_argument("--currency", choices=Currency.values, default=Currency.EUR)
        parser.add_argument("--domain", help="An extra host name for the partner (its own domain)")
        parser.add_argument(
            "--method", choices=[m.value for m in ProvisioningMethod], default=ProvisioningMethod.CLONE.value
        )

    def handle(self, *args, **options):
        is_service_provider = options["service_provider"] or not options["large_account_reseller"]
        try:
            provisioned = partner_create(
                name=options["name"],
                slug=options["slug"],
                admin_email=options["admin_email"],
                is_service_provider=is_service_provider,
                is_large_account_reseller=options["large_account_reseller"],
                region=options["region"],
                default_language=options["language"],
                default_currency=options["currency"],
                extra_domain=options["domain"],
                method=ProvisioningMethod(options["method"]),
            )
        except ValidationError as error:
            raise CommandError("Nothing was created. " + " ".join(error.messages)) from error
        partner = provisioned.partner
        self.stdout.write(
            self.style.SUCCESS(f"Created partner {partner.name} ({partner.kind_label}) by {provisioned.method}.")
        )
        self.stdout.write(f"  URL:      {partner_url(partner)}")
        self.stdout.write(f"  Username: {provisioned.admin_username} (or {provisioned.admin_email})")
        self.stdout.write(f"  Password: {provisioned.admin_password}")
