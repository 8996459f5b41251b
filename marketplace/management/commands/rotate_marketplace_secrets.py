from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from marketplace.services import marketplace_secrets_rotate
from portal.partners.selectors import partner_by_slug, partners_all


class Command(BaseCommand):
    help = (
        "Re-encrypt marketplace account secrets with the newest key in MARKETPLACE_SECRET_KEYS "
        "(every partner, or one with --partner)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--partner", help="the partner's slug; default: every partner")
        parser.add_argument("--dry-run", action="store_true", help="count what would be re-encrypted, change nothing")

    def handle(self, *args, **options):
        if options["partner"]:
            partner = partner_by_slug(slug=options["partner"])
            if partner is None:
                raise CommandError(f"No partner is called {options['partner']!r}.")
            partners = [partner]
        else:
            partners = list(partners_all().exclude(schema_name="public"))
        rotated = current = 0
        unreadable = []
        for partner in partners:
            with schema_context(partner.schema_name):
                result = marketplace_secrets_rotate(dry_run=options["dry_run"])
            rotated += result.rotated
            current += result.current
            unreadable += [f"{partner.slug}: {name}" for name in result.unreadable]
        verb = "would re-encrypt" if options["dry_run"] else "re-encrypted"
        self.stdout.write(
            f"{verb} {rotated} secret(s), {current} already on the newest key, in {len(partners)} partner(s)."
        )
        if unreadable:
            self.stderr.write(
                f"{len(unreadable)} secret(s) no configured key decrypts (enter their passwords again): "
                + ", ".join(unreadable)
            )
