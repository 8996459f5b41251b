from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from portal.partners.selectors import partner_by_slug, partners_all
from reports.statements import billing_cycles_close_due


class Command(BaseCommand):
    help = (
        "Issue the billing statements of the last complete billing cycle (every partner, or one with "
        "--partner); a cycle already issued is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partner", help="the partner's slug; default: every partner")
        parser.add_argument("--dry-run", action="store_true", help="count what would be issued, write nothing")

    def handle(self, *args, **options):
        if options["partner"]:
            partner = partner_by_slug(slug=options["partner"])
            if partner is None:
                raise CommandError(f"No partner is called {options['partner']!r}.")
            partners = [partner]
        else:
            partners = list(partners_all().exclude(schema_name="public"))
        for partner in partners:
            with schema_context(partner.schema_name):
                result = billing_cycles_close_due(actor="close_billing_cycles", dry_run=options["dry_run"])
            self.stdout.write(f"{partner.slug}: {result.summary}")
