"""The catalogs: every string a user sees is marked for translation, and every language translates all of them.

`tools/untranslated.py` finds unmarked strings; `makemessages` run into a scratch copy of the catalogs
finds strings the committed catalogs lack.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command

from tools import untranslated

ROOT = Path(settings.BASE_DIR)
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdif]|%[sd]|\{[a-z_]*\}")


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


def test_no_template_or_python_module_shows_an_unmarked_string():
    findings = [str(finding) for finding in untranslated.all_findings()]
    assert findings == [], "mark these for translation:\n" + "\n".join(findings)


def test_the_checker_finds_unmarked_text_in_a_template(tmp_path):
    template = tmp_path / "templates" / "page.html"
    template.parent.mkdir()
    template.write_text(
        "{% load i18n %}\n"
        '<h1>{% translate "Customers" %}</h1>\n'
        "<p>{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}</p>\n"
        '<button title="Delete it">{% translate "Delete" %}</button>\n'
        "<td>{{ value }} seats left</td>\n"
        "<script>const label = 'not a screen string';</script>\n"
        "{% comment %}Notes for developers{% endcomment %}\n"
        '<input type="submit" value="Send">\n'
        "<span>— · 42 € admin@example.com</span>\n"
    )
    found = [(finding.line, finding.text) for finding in untranslated.template_findings(template)]
    assert found == [(4, "title=Delete it"), (5, "seats left"), (8, "value=Send")]


def test_the_checker_finds_unmarked_strings_in_python(tmp_path):
    module = tmp_path / "views.py"
    module.write_text(
        "from django import forms\n"
        "from django.contrib import messages\n"
        "from django.db import models\n"
        "from django.utils.translation import gettext as _\n"
        "class Colour(models.TextChoices):\n"
        '    RED = "red", "Red"\n'
        '    BLUE = "blue", _("Blue")\n'
        "class Form(forms.Form):\n"
        '    name = forms.CharField(label="Name", help_text=_("Your name"))\n'
        '    code = forms.CharField(widget=forms.TextInput(attrs={"placeholder": "DE123456789"}))\n'
        "def view(request, count):\n"
        '    messages.success(request, f"{count} saved")\n'
        '    messages.info(request, _("%(count)s saved") % {"count": count})\n'
        '    raise forms.ValidationError("Too many")\n'
    )
    found = [(finding.line, finding.text) for finding in untranslated.python_findings(module)]
    assert found == [(6, "Red"), (9, "Name"), (12, " saved"), (14, "Too many")]


def test_the_checker_can_be_run_by_hand():
    result = subprocess.run(
        [sys.executable, "-m", "tools.untranslated"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
    assert "0 untranslated strings" in result.stderr


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_entry_of_the_catalog_is_translated_and_none_is_fuzzy(language):
    po = catalog(language)
    assert po.metadata["Language"] == language
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    assert [entry.msgid for entry in po.obsolete_entries()] == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_every_placeholder(language):
    lost = []
    for entry in catalog(language):
        if not entry.msgid:
            continue
        forms = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for number, form in enumerate(forms):
            source = entry.msgid_plural if entry.msgid_plural and number else entry.msgid
            wanted = sorted(set(PLACEHOLDER.findall(source)) | set(PLACEHOLDER.findall(entry.msgid)))
            # a form for one item may say "one" instead of %(count)d; every other placeholder stays
            if entry.msgid_plural:
                wanted = [name for name in wanted if "count" not in name and name not in ("%d", "%s")]
            have = set(PLACEHOLDER.findall(form))
            allowed = set(PLACEHOLDER.findall(entry.msgid + (entry.msgid_plural or "")))
            if not set(wanted) <= have or not have <= allowed:
                lost.append((entry.msgid, form))
    assert lost == []


def test_the_catalogs_share_one_set_of_strings():
    sources = {language: {(entry.msgctxt, entry.msgid) for entry in catalog(language)} for language in TRANSLATED}
    first = sources[TRANSLATED[0]]
    assert all(strings == first for strings in sources.values())


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext (apt-get install gettext)")
def test_the_catalogs_hold_every_string_the_code_marks(tmp_path, settings, monkeypatch):
    """Extract the strings again into a copy of the German catalog: nothing new may appear.

    makemessages writes into the catalog nearest the sources, so it runs in a scratch tree that links
    to the sources and holds its own copy of the catalog; the committed one is never touched."""
    for folder in untranslated.SOURCE_FOLDERS:
        (tmp_path / folder).symlink_to(ROOT / folder, target_is_directory=True)
    shutil.copytree(ROOT / "locale" / "de", tmp_path / "locale" / "de")
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    monkeypatch.chdir(tmp_path)
    call_command("makemessages", locale=["de"], symlinks=True, add_location="file", verbosity=0)
    extracted = polib.pofile(str(tmp_path / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    missing = [entry.msgid for entry in extracted.untranslated_entries() + extracted.fuzzy_entries()]
    assert missing == [], "run makemessages (locale/README.md) and translate these in every language"
    assert [entry.msgid for entry in extracted.obsolete_entries()] == []


def test_catalogs_compile_without_gettext(tmp_path, settings, monkeypatch):
    """A machine with Python and nothing else still serves every language: polib compiles."""
    shutil.copytree(ROOT / "locale" / "fr", tmp_path / "fr")
    settings.LOCALE_PATHS = [tmp_path]
    monkeypatch.setattr("shutil.which", lambda _name: None)
    call_command("compile_translations")
    compiled = polib.mofile(str(tmp_path / "fr" / "LC_MESSAGES" / "django.mo"))
    assert {entry.msgid: entry.msgstr for entry in compiled}["Sign in"] == catalog("fr").find("Sign in").msgstr
