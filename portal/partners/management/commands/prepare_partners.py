from django.core.management.base import BaseCommand

from portal.partners.services import partner_template_ensure, platform_ensure


class Command(BaseCommand):
    help = (
        "Make sure the public host resolves and the partner template schema is migrated, so new partners "
        "are cloned from a current layout (migrate_partners does both on every deploy). Safe to run any time."
    )

    def handle(self, *args, **options):
        platform_ensure()
        partner_template_ensure(verbosity=max(options["verbosity"] - 1, 0))
        self.stdout.write("Public host and partner template are ready.")
