"""Compile the translation catalogs (`locale/<lang>/LC_MESSAGES/django.po` -> `.mo`).

Both README commands and the Docker build run this, so a fresh clone serves every language. It is
Django's `compilemessages` where GNU gettext's `msgfmt` is installed, and polib otherwise (a machine
with Python and nothing else); catalogs whose `.mo` is newer than their `.po` are left alone.
"""

import contextlib
import shutil

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the console's translation catalogs (.po -> .mo)."

    def handle(self, *args, **options) -> None:
        catalogs = sorted(path for folder in settings.LOCALE_PATHS for path in folder.glob("*/LC_MESSAGES/*.po"))
        stale = [path for path in catalogs if _stale(path)]
        if stale and shutil.which("msgfmt"):
            with contextlib.chdir(settings.BASE_DIR):  # compilemessages also walks the working directory
                call_command("compilemessages", verbosity=0, ignore_patterns=[".venv", ".dev", "node_modules"])
        else:
            for path in stale:
                polib.pofile(str(path)).save_as_mofile(str(path.with_suffix(".mo")))
        self.stdout.write(f"{len(stale)} of {len(catalogs)} translation catalogs compiled.")


def _stale(path) -> bool:
    compiled = path.with_suffix(".mo")
    return not compiled.exists() or compiled.stat().st_mtime < path.stat().st_mtime
