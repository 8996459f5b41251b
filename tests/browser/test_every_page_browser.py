"""Headless Chromium walks every page of the demo partner's console, as its administrator, at 1366x768, in
English, German, French and Japanese.

Every pattern of the URLconf is walked (one object of each page that takes arguments) or named in
tests/browser/walk.py with why it is not a page. On each page the walk fails on: an element wider than its
box (a word pushing out of its column, a table cut off inside its scroller, a drop-down too narrow for its
values), a page that scrolls sideways, a label broken inside a word, text the language's catalog translates
left in English, a raw audit or choice code, and any console error or Content-Security-Policy violation.
Screenshots of the pages with a problem land in CONSOLE_SCREENSHOTS.
"""

import os
import re
import time
from contextlib import ExitStack
from types import SimpleNamespace

import pytest
from django.db.models import Q
from django_tenants.utils import schema_context

from demo.seed import DEMO_ADMIN_PASSWORD, DEMO_SLUG, demo_seed
from marketplace.providers.registry import marketplaces
from pools.models import PoolAllocation
from portal.partners.models import Partner
from tests.browser.conftest import SCREENSHOTS, totp_code_of
from tests.browser.walk import (
    ENGLISH_BY_DESIGN,
    KNOWN_FAULTS,
    NOT_PAGES,
    NOT_SCREEN_PREFIXES,
    NOT_SCREENS,
    detail_pages,
    english_strings,
    raw_codes,
    tenant_users_ensure,
    url_patterns,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

LANGUAGES = ("en", "de", "fr", "ja")
# German and French write "5,71 €": an amount with a decimal point there ("5.71 EUR", "2 × 20.76") was
# formatted by hand, not by the money filter (a date "07.12.2026" has a point after its two digits)
DECIMAL_COMMA = ("de", "fr")
PLAIN_MONEY = re.compile(r"(?<![\d.,])\d+\.\d{2}(?![\d.])")

# What a person sees on the page, and what sticks out of it, in one pass:
# - texts: visible text nodes, whitespace collapsed, with whether they are the marketplace's own words
#   (inside [translate=no]: shown as the marketplace wrote them) or code;
# - wide: boxes whose content is wider than they are, scrollers that cut their content, drop-downs too
#   narrow for their longest value, anything out to the right of the window, a page that scrolls sideways;
# - broken: a word of a label, heading, button or cell that the browser broke over two lines.
INSPECT = """() => {
  const width = document.documentElement.clientWidth;
  const visible = (element) => element.checkVisibility({ visibilityProperty: true, opacityProperty: true });
  const describe = (element) => element.outerHTML.slice(0, 120).replace(/\\s+/g, " ");
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, element = node.parentElement;
    if (!element || element.closest("script, style, template") || !visible(element)) continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) texts.push([text, Boolean(element.closest("[translate=no]")), Boolean(element.closest("code"))]);
  }

  const wide = [];
  const clippedByAncestor = (element) => {
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(parent).overflowX)) return true;
    }
    return false;
  };
  const boxes = "[class*=col-], nav, .card, .card-header, .card-body, .btn, .nav-link, .console-nav-link, h1, h2, h3,"
    + " th, label, dt, dd, .kpi, .form-text, .form-check, .breadcrumb, .page-header";
  for (const element of document.querySelectorAll(boxes)) {
    if (!visible(element) || clippedByAncestor(element)) continue;
    const style = getComputedStyle(element);
    if (style.display === "inline" || style.overflowX !== "visible") continue;
    if (element.scrollWidth > element.clientWidth + 1 || element.getBoundingClientRect().right > width + 1) {
      wide.push("wider than its box: " + describe(element));
    }
  }
  // a scroller that hides part of its content (a table cut off at the right)
  for (const element of document.querySelectorAll(".table-responsive, .overflow-auto, .overflow-x-auto, pre")) {
    const overflow = getComputedStyle(element).overflowX;
    if (!["auto", "scroll"].includes(overflow) || !visible(element)) continue;
    const hidden = element.scrollWidth - element.clientWidth;
    if (hidden > 1) wide.push("cut off, scrolls sideways: " + describe(element) + ` (${hidden} px hidden)`);
  }
  // a closed drop-down shows its value in its box: the chosen one must fit, and in a filter (a GET form) every
  // one, unless the box sizes itself to its value
  const canvas = document.createElement("canvas").getContext("2d");
  for (const select of document.querySelectorAll("select:not([multiple])")) {
    if (!visible(select)) continue;
    const style = getComputedStyle(select);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const filter = select.form && select.form.method === "get" && style.fieldSizing !== "content";
    const values = filter ? [...select.options] : [...select.selectedOptions];
    for (const option of values) {
      const text = option.text.trim();
      if (canvas.measureText(text).width > room + 1) {
        wide.push(`drop-down too narrow for "${text}": ` + describe(select));
        break;
      }
    }
  }
  if (document.documentElement.scrollWidth > width + 1) wide.push("the page scrolls sideways");

  const broken = [];
  const labels = "th, td, label, legend, dt, dd, h1, h2, h3, h5, .btn, .nav-link, .console-nav-link, .badge,"
    + " .breadcrumb-item, .card-header, .form-text, .dropdown-item, .page-header p";
  const cjk = /[\\u3000-\\u30ff\\u3400-\\u9fff\\uff00-\\uffef]/;
  // a word may break at its own hyphen ("Standard-/Kundenpreis"); a number or a date never does
  const hyphenated = /^(?=.*\\p{L})[\\p{L}\\p{N}()'’]+(-[\\p{L}\\p{N}()'’.,;:]+)+$/u;
  // Japanese running text breaks between any two characters; a Japanese label must not
  const label = "th, label, legend, dt, .btn, .nav-link, .console-nav-link, .badge, .breadcrumb-item, .dropdown-item";
  for (const element of document.querySelectorAll(labels)) {
    if (!visible(element)) continue;
    const isLabel = element.matches(label);
    const inner = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    while (inner.nextNode()) {
      const node = inner.currentNode, parent = node.parentElement;
      if (!parent || !visible(parent)) continue;
      // a box that breaks long words on purpose (an email, an ID, a marketplace's term in a narrow column)
      const style = getComputedStyle(parent);
      // a soft hyphen marks where a long word may break ("Abrechnungs-/zeitraum")
      const onPurpose = style.overflowWrap === "anywhere" || style.wordBreak === "break-all"
        || node.textContent.includes("\\u00ad");
      if (onPurpose || parent.closest(".text-break")) continue;
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        const word = match[0];
        // a long run (an address, an ID) may break; a CJK run is a phrase, a short one must not
        if (word.length < 2 || word.length > (cjk.test(word) ? 8 : 24)) continue;
        if (hyphenated.test(word) || (!isLabel && cjk.test(word))) continue;
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + word.length);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) broken.push(`"${word}" in ` + describe(element));
      }
    }
  }
  return { texts, wide, broken };
}"""


# Which of these URLs answer a GET with a page (not a 405 of an action, a redirect or a download).
PAGES_AMONG = """async (urls) => {
  const answers = await Promise.all(urls.map((url) => fetch(url, { redirect: "manual" })));
  return urls.filter((url, index) => answers[index].status === 200
    && (answers[index].headers.get("content-type") || "").startsWith("text/html"));
}"""


@pytest.fixture
def demo(django_db_setup, django_db_blocker):
    """The demo partner, seeded as `seed_demo` does (committed: the console is another process), the pages
    to walk, and its administrator's authenticator; the demo's partners are removed afterwards."""
    with django_db_blocker.unblock():
        kept = set(Partner.objects.values_list("pk", flat=True))
        partner = demo_seed().partner
        with schema_context(partner.schema_name):
            from django_otp.plugins.otp_totp.models import TOTPDevice

            tenant_users_ensure()
            pages = detail_pages([str(slug) for slug in marketplaces()])
            device = TOTPDevice.objects.get(user__username="admin", name="Demo authenticator")
        world = SimpleNamespace(
            pages=pages,
            device=device,
            codes=raw_codes(),
            english={lang: english_strings(lang) for lang in LANGUAGES[1:]},
        )
    yield world
    with django_db_blocker.unblock():
        added = Partner.objects.exclude(pk__in=kept)
        # the resellers first: dropping a schema drops its pool assignments, then their allocations may go
        for each in added.exclude(slug=DEMO_SLUG):
            each.delete(force_drop=True)
        PoolAllocation.objects.filter(Q(pool__owner__in=added) | Q(reseller__in=added)).delete()
        for each in Partner.objects.filter(slug=DEMO_SLUG):
            each.delete(force_drop=True)
        assert set(Partner.objects.values_list("pk", flat=True)) == kept


def _problems_of(page, url: str, language: str, world) -> list[str]:
    found = page.evaluate(INSPECT)
    problems = [f"{language} {url}: {each}" for each in found["wide"] + [f"broken {b}" for b in found["broken"]]]
    # a customer document (a printed quote) is in the customer's language, which its page names
    shown_in = page.evaluate("document.documentElement.lang") or language
    english = set() if url in ENGLISH_BY_DESIGN else world.english.get(shown_in, set())
    untranslated = sorted(
        {text for text, theirs, code in found["texts"] if not theirs and not code and text in english}
    )
    if untranslated:
        problems.append(f"{language} {url}: untranslated {untranslated}")
    raw = sorted(
        {
            word.rstrip(",.;:")
            for text, theirs, _code in found["texts"]
            if not theirs
            for word in text.split()
            if word.rstrip(",.;:") in world.codes
        }
    )
    if raw:
        problems.append(f"{language} {url}: raw codes {raw}")
    if shown_in in DECIMAL_COMMA and url not in ENGLISH_BY_DESIGN:
        plain = sorted(
            {
                number
                for text, theirs, code in found["texts"]
                if not theirs and not code
                for number in PLAIN_MONEY.findall(text)
            }
        )
        if plain:
            problems.append(f"{language} {url}: money written the English way {plain}")
    return problems


# Pages opened side by side, in one browser context (one session, one language), while the console answers
# them in threads: the walk takes about a third of the time of one page after another.
SIDE_BY_SIDE = 3


def _open_together(pages, urls: list[str]) -> list:
    """Open each URL in its page at once; their responses when every page has loaded."""
    with ExitStack() as stack:
        loads = [stack.enter_context(page.expect_navigation(wait_until="load")) for page in pages[: len(urls)]]
        for page, url in zip(pages, urls, strict=False):
            # scheduled in the page, so this call returns before the page it runs in goes away
            page.evaluate("url => { setTimeout(() => location.assign(url), 0); }", url)
    return [load.value for load in loads]


def test_every_page_in_every_language(demo, browser, threaded_console_server):
    base = f"http://{DEMO_SLUG}.console.test:{threaded_console_server}"
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pages = [context.new_page() for _ in range(SIDE_BY_SIDE)]
    page = pages[0]
    console_errors: list[str] = []

    def on_console_of(each):
        def on_console(message) -> None:
            # Chromium's notice that plain http (the test hosts) ignores the Cross-Origin-Opener-Policy header
            if message.type == "error" and "Cross-Origin-Opener-Policy" not in message.text:
                console_errors.append(f"{each.url}: {message.text}")

        return on_console

    for each in pages:
        each.on("console", on_console_of(each))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    page.goto(base + "/accounts/sign-in/")
    page.get_by_label("Username or email").fill("admin")
    page.get_by_label("Password").fill(DEMO_ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/accounts/sign-in/verify/" in url)
    page.get_by_label("Code").fill(totp_code_of(demo.device))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")
    for each in pages[1:]:
        each.goto(base + "/")

    # every pattern is walked or named as not a page; argument-less ones that answer with no page are skipped
    patterns = url_patterns()
    unplaced = [
        name
        for name, _route, takes in patterns
        if takes and name not in demo.pages and name not in NOT_SCREENS and not name.startswith(NOT_SCREEN_PREFIXES)
    ]
    assert unplaced == [], f"add these patterns to the walk (tests/browser/walk.py): {unplaced}"
    plain = [route for name, route, takes in patterns if not takes and name not in NOT_PAGES]
    pages_among = set(page.evaluate(PAGES_AMONG, plain))
    urls = [route for route in plain if route in pages_among]
    for name, _route, takes in patterns:
        if takes:
            urls.extend(demo.pages.get(name, []))
    assert len(urls) >= 120, urls
    # CONSOLE_WALK_ONLY=/catalog/,/subscriptions/ walks only these paths (while fixing a screen); the known
    # faults of the others are not looked for
    only = [path for path in os.environ.get("CONSOLE_WALK_ONLY", "").split(",") if path]
    if only:
        urls = [url for url in urls if url in only]

    console_errors.clear()  # the probe's 405s of actions are answers it asked for
    problems = []
    started = time.monotonic()
    for language in LANGUAGES:
        page.goto(base + "/")
        page.get_by_test_id("user-menu").click()
        page.get_by_test_id(f"language-{language}").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == language
        for start in range(0, len(urls), SIDE_BY_SIDE):
            batch = urls[start : start + SIDE_BY_SIDE]
            responses = _open_together(pages, [base + url for url in batch])
            for each, url, response in zip(pages, batch, responses, strict=False):
                assert response is not None and response.ok, f"{language} {url}: {response and response.status}"
                found = _problems_of(each, url, language, demo)
                if found:
                    problems.extend(found)
                    name = url.strip("/").replace("/", "-") or "home"
                    each.screenshot(path=str(SCREENSHOTS / f"walk-{language}-{name}.png"), full_page=True)
    problems.extend(console_errors)
    print(f"walked {len(urls)} pages in {len(LANGUAGES)} languages in {time.monotonic() - started:.0f} s")
    new = [problem for problem in problems if not any(known in problem for known in KNOWN_FAULTS)]
    gone = [known for known in KNOWN_FAULTS if not only and not any(known in problem for problem in problems)]
    assert new == [], f"{len(new)} problems:\n" + "\n".join(new)
    assert gone == [], f"fixed: take these out of KNOWN_FAULTS in tests/browser/walk.py: {gone}"
