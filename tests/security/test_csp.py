"""The Content-Security-Policy: present and strict on partner and public hosts, and nothing inline left to break it.

An inline script, event handler or style attribute would be blocked by the browser (and reported by the
browser tests), so the scan below names the file and line of any that creeps into a template or into
HTML built in Python, before a person meets a dead button.
"""

import re
from pathlib import Path

from django.conf import settings
from django.test import Client

from portal.content_security_policy import content_security_policy, origin_of
from tests.support import host_of

ROOT = Path(settings.BASE_DIR)
SKIPPED_DIRECTORIES = {".venv", ".git", ".dev", "node_modules", "staticfiles", "tests", "migrations", "__pycache__"}
# Served by their own WSGI apps on their own origins (never under the console's policy): the simulators'
# pages, and the developer tools.
SKIPPED_PYTHON = {"simulators/identity.py", "tools/untranslated.py", "tools/devenv.py"}

INLINE = [
    (
        "inline <script> (move it to a static file; pass data with data- attributes or json_script)",
        re.compile(r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*\btype\s*=\s*[\"']?application/(?:ld\+)?json)[^>]*>", re.I),
    ),
    ("<style> block (move it to static/css/console.css)", re.compile(r"<style\b", re.I)),
    ("style attribute (use a class from static/css/console.css)", re.compile(r"(?<![\w-])style\s*=\s*[\"']", re.I)),
    ("inline event handler (bind it in static/js/console.js)", re.compile(r"(?<![\w-])on[a-z]{3,}\s*=\s*[\"']", re.I)),
    ("hx-on (htmx runs without eval)", re.compile(r"(?<![\w-])(?:data-)?hx-on\b", re.I)),
    ("hx-vars (htmx runs without eval)", re.compile(r"(?<![\w-])(?:data-)?hx-vars\b", re.I)),
    ("javascript: URL", re.compile(r"javascript:", re.I)),
    ("js: value (htmx runs without eval)", re.compile(r"[\"']\s*js:", re.I)),
]


def inline_code(text: str) -> list[tuple[int, str]]:
    """(line, what) for every inline script, style or handler in the text."""
    found = []
    for what, pattern in INLINE:
        for match in pattern.finditer(text):
            found.append((text.count("\n", 0, match.start()) + 1, what))
    return sorted(found)


def _files(suffix: str):
    for path in sorted(ROOT.rglob(f"*{suffix}")):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRECTORIES & set(relative.parts) or "static" in relative.parts:
            continue
        yield relative


def served_templates() -> list[Path]:
    """Every HTML template the browser renders: templates/ and each app's templates/, without emails
    (a mail client, not the console's pages, shows those)."""
    return [
        path
        for path in _files(".html")
        if "templates" in path.parts and not any("email" in part for part in path.parts)
    ]


def python_sources() -> list[Path]:
    return [path for path in _files(".py") if path.as_posix() not in SKIPPED_PYTHON]


def _parsed(header: str) -> dict[str, list[str]]:
    directives = {}
    for directive in filter(None, (part.strip() for part in header.split(";"))):
        name, *sources = directive.split()
        directives[name] = sources
    return directives


def assert_strict(response) -> None:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    policy = _parsed(header)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"][0] == "'self'"
    assert set(policy["form-action"][1:]) <= {
        "http://console.test",
        origin_of(settings.MICROSOFT_AUTHORITY),
        origin_of(settings.MICROSOFT_SIMULATOR_URL),
    }
    sources = [source for directive in policy.values() for source in directive]
    for loose in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'strict-dynamic'", "*", "http:", "https:"):
        assert loose not in sources, f"{loose} in {header}"
    assert "nonce-" not in header and "sha256-" not in header, header


# -- the header ------------------------------------------------------------------------------------------------------


def test_a_partner_page_signed_out_and_in_is_served_with_the_strict_policy(partner_alpha, alpha_admin_client):
    assert_strict(Client(HTTP_HOST=host_of(partner_alpha)).get("/accounts/sign-in/"))
    home = alpha_admin_client.get("/")
    assert home.status_code == 200
    assert_strict(home)
    assert_strict(alpha_admin_client.get("/customers/", HTTP_HX_REQUEST="true"))


def test_the_public_host_is_served_with_the_strict_policy(db):
    landing = Client(HTTP_HOST="console.test").get("/")
    assert landing.status_code == 200
    assert_strict(landing)


def test_an_unknown_partner_host_is_served_with_the_strict_policy(db):
    assert_strict(Client(HTTP_HOST="nobody.console.test").get("/"))


def test_form_action_allows_the_public_host_and_the_identity_provider_only():
    policy = content_security_policy(
        public_origin="https://console.example",
        form_targets=["https://login.microsoftonline.com", "http://localhost:8100/", "", "http://localhost:8100"],
    )
    assert policy["DIRECTIVES"]["form-action"] == [
        "'self'",
        "https://console.example",
        "https://login.microsoftonline.com",
        "http://localhost:8100",
    ]
    assert origin_of("https://login.microsoftonline.com/common/oauth2") == "https://login.microsoftonline.com"
    assert origin_of("") == ""


def test_htmx_runs_without_eval_and_without_injected_styles(alpha_admin_client):
    page = alpha_admin_client.get("/").content.decode()
    assert """<meta name="htmx-config" content='{"allowEval": false, "includeIndicatorStyles": false}'>""" in page
    assert "django-htmx.js" not in page  # its debug helper evals error pages' scripts


# -- nothing inline --------------------------------------------------------------------------------------------------


def test_the_scan_finds_every_kind_of_inline_code():
    sample = "\n".join(
        [
            "<script>alert(1)</script>",
            '<script type="module">import x from "y"</script>',
            "<style>.x { color: red }</style>",
            '<div class="x" style="width: 3rem">',
            '<button onclick="go()">',
            "<form\n      onsubmit='return confirm(1)'>",
            '<a hx-on:click="go()">',
            '<div hx-vars="{a: 1}">',
            '<a href="javascript:void(0)">',
            "<div hx-vals='js:{a: go()}'>",
        ]
    )
    assert [line for line, _what in inline_code(sample)] == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]


def test_the_scan_lets_through_what_the_policy_allows():
    allowed = "\n".join(
        [
            '<script src="/static/js/console.js" defer></script>',
            '<script id="chart-data" type="application/json">{"a": 1}</script>',
            '{{ chart|json_script:"usage-chart-data" }}',
            '<div class="chart-box" data-width="40" data-confirm="Sure?" data-auto-submit>',
            "<p>Turn the option on=off in the settings; the button's style is up to you.</p>",
            'headings_style=FontFace(emphasis="BOLD"), on_delete=models.CASCADE',
        ]
    )
    assert inline_code(allowed) == []


def test_no_template_has_inline_scripts_styles_or_handlers():
    templates = served_templates()
    assert len(templates) > 100 and Path("templates/base.html") in templates
    found = [f"{path}:{line}: {what}" for path in templates for line, what in inline_code((ROOT / path).read_text())]
    assert found == [], "\n".join(found)


def test_no_html_built_in_python_has_inline_scripts_styles_or_handlers():
    sources = python_sources()
    assert Path("resellers/tables.py") in sources
    found = [f"{path}:{line}: {what}" for path in sources for line, what in inline_code((ROOT / path).read_text())]
    assert found == [], "\n".join(found)
