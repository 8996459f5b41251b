"""Headless Chromium switches the console to each language and walks its main screens.

On every screen: the page says which language it is in, no text the catalog translates is left in
English, and nothing sticks out of the page (long German compounds, Japanese line breaking). Screenshots
of each language land in CONSOLE_SCREENSHOTS for a person to look at.
"""

import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from portal.partners.models import Partner
from tests.browser.conftest import SCREENSHOTS, authenticator_enrol, totp_code_of
from tests.factories import UserFactory
from tests.support import PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.browser]

LANGUAGES = ("de", "fr", "ja")
# Besides the sidebar's sections: pages a user of every kind meets.
EXTRA_SCREENS = ("/accounts/profile/", "/settings/users/", "/settings/language-and-region/", "/catalog/public/")

# Visible text of the page, as the person reads it: one entry per text node, whitespace collapsed.
VISIBLE_TEXT = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, element = node.parentElement;
    if (!element || element.closest("script, style, code, [translate=no]")) continue;
    if (!element.checkVisibility({ visibilityProperty: true })) continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) texts.push(text);
  }
  return texts;
}"""

# Boxes whose content is wider than they are (a word that cannot wrap pushing into its neighbour), and
# anything out to the right of the window where nothing scrolls it into view.
BROKEN_LAYOUT = """() => {
  const width = document.documentElement.clientWidth, found = [];
  const clipped = (element) => {
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(parent).overflowX)) return true;
    }
    return false;
  };
  const boxes = "[class*=col-], nav, .card, .card-header, .btn, .nav-link, .console-nav-link, h1, h2, th, label, .kpi";
  for (const element of document.querySelectorAll(boxes)) {
    if (!element.checkVisibility() || clipped(element)) continue;
    const style = getComputedStyle(element);
    if (style.display === "inline" || style.overflowX !== "visible") continue;
    const box = element.getBoundingClientRect();
    if (element.scrollWidth > element.clientWidth + 1 || box.right > width + 1) {
      found.push(element.outerHTML.slice(0, 100));
    }
  }
  if (document.documentElement.scrollWidth > width + 1) found.push("the page scrolls sideways");
  return found;
}"""


def english_strings(language: str) -> set[str]:
    """Source strings the language's catalog translates differently: seen on its screens, they are untranslated."""
    catalog = polib.pofile(str(Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"))
    return {
        entry.msgid
        for entry in catalog
        if not entry.msgid_plural
        and entry.msgstr
        and entry.msgstr != entry.msgid
        and re.search(r"[A-Za-z]{3}", entry.msgid)
    }


@pytest.fixture
def polyglot(django_db_setup, django_db_blocker):
    """A committed administrator of alpha whose language the walk changes; removed afterwards."""
    with django_db_blocker.unblock():
        schema = Partner.objects.get(slug="alpha").schema_name
        with schema_context(schema):
            user = UserFactory(username="polyglot", email="polyglot@alpha.example", is_superuser=True)
        _schema, device = authenticator_enrol("alpha", "polyglot")
    yield user, device
    with django_db_blocker.unblock(), schema_context(schema):
        type(user).objects.filter(pk=user.pk).delete()


def test_every_language_walks_the_main_screens(polyglot, browser, console_server):
    _user, device = polyglot
    base = f"http://alpha.console.test:{console_server}"
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(base + "/accounts/sign-in/")
    page.get_by_label("Username or email").fill("polyglot")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(base + "/accounts/sign-in/verify/?next=%2F")
    page.get_by_label("Code").fill(totp_code_of(device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")
    screens = [link.get_attribute("href") for link in page.locator(".console-nav a").all()] + list(EXTRA_SCREENS)
    assert len(screens) >= 10

    problems = []
    for language in LANGUAGES:
        page.goto(base + "/")
        page.get_by_test_id("user-menu").click()
        page.get_by_test_id(f"language-{language}").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == language
        english = english_strings(language)
        for screen in screens:
            response = page.goto(base + screen)
            assert response is not None and response.ok, f"{language} {screen}: {response and response.status}"
            assert page.locator("html").get_attribute("lang") == language, screen
            left_in_english = sorted({text for text in page.evaluate(VISIBLE_TEXT) if text in english})
            if left_in_english:
                problems.append(f"{language} {screen}: untranslated {left_in_english}")
            if broken := page.evaluate(BROKEN_LAYOUT):
                problems.append(f"{language} {screen}: content wider than its box {broken}")
            name = screen.strip("/").replace("/", "-") or "home"
            page.screenshot(path=str(SCREENSHOTS / f"{language}-{name}.png"), full_page=True)
        if language == "ja":  # Japanese wraps by its own rules, never inside a run of Latin letters
            assert page.evaluate("getComputedStyle(document.body).lineBreak") == "strict"
    assert problems == [], "\n".join(problems)
