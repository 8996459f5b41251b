from django.core.management.base import BaseCommand

from portal.partners.selectors import partners_all
from portal.partners.services import partner_url


class Command(BaseCommand):
    help = "List the partners with their kind, status, schema and URL."

    def handle(self, *args, **options):
        partners = list(partners_all())
        if not partners:
            self.stdout.write("No partners yet. Create one with: manage.py create_partner --name ... --slug ...")
            return
        header = f"{'slug':<20} {'name':<30} {'kind':<40} {'status':<13} {'schema':<22} url"
        self.stdout.write(header)
        for partner in partners:
            self.stdout.write(
                f"{partner.slug:<20} {partner.name[:30]:<30} {partner.kind_label:<40} {partner.status:<13} "
                f"{partner.schema_name:<22} {partner_url(partner)}"
            )
        self.stdout.write(f"{len(partners)} partner(s).")
