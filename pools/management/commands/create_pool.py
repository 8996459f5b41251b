import datetime

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from pools.choices import PaymentType, PoolService, PoolSource
from pools.services import pool_create
from portal.partners.selectors import partner_by_slug


class Command(BaseCommand):
    help = "Record a pool (pooled subscription) a large account reseller bought from the vendor or a marketplace."

    def add_arguments(self, parser):
        parser.add_argument("--partner", required=True, help="Slug of the large account reseller")
        parser.add_argument("--service", required=True, choices=PoolService.values)
        parser.add_argument("--seats", required=True, type=int)
        parser.add_argument("--expires", required=True, type=datetime.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument("--name", default="")
        parser.add_argument("--source", choices=PoolSource.values, default=PoolSource.VENDOR)
        parser.add_argument("--payment-type", choices=PaymentType.values, default=PaymentType.PREPAID)
        parser.add_argument("--dry-run", action="store_true", help="Check the pool, record nothing")

    def handle(self, *args, **options):
        partner = partner_by_slug(slug=options["partner"])
        if partner is None:
            raise CommandError(f"No partner is called {options['partner']!r}.")
        fields = {
            "owner": partner,
            "service": options["service"],
            "seats": options["seats"],
            "expires_on": options["expires"],
            "name": options["name"],
            "source": options["source"],
            "payment_type": options["payment_type"],
        }
        if options["dry_run"]:
            self.stdout.write(f"Would record {options['seats']} seats of {options['service']} for {partner.name}.")
            return
        try:
            # audited in the LAR's own trail, like every write of its pools
            with schema_context(partner.schema_name):
                pool = pool_create(actor="platform", **fields)
        except ValidationError as error:
            raise CommandError("Nothing was recorded. " + " ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Recorded pool {pool.name}: {pool.seats} seats until {pool.expires_on} for {partner.name}."
            )
        )
