from django.core.management.base import BaseCommand

from demo.seed import demo_seed


class Command(BaseCommand):
    help = "Create or refresh the demo partner and its data (idempotent), and print how to sign in."

    def handle(self, *args, **options):
        result = demo_seed()
        for line in result.lines:
            self.stdout.write(line)
