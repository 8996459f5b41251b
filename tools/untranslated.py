"""Find text the console shows its users that is not marked for translation.

Two checks, one per kind of source, both used by ``tests/portal/core/test_translations.py`` and runnable by
hand (``python -m tools.untranslated``) to list every finding with its place:

- **Templates.** Each template is read through Django's own lexer, so ``{% translate %}``,
  ``{% blocktranslate %}`` and variables are told apart from literal text exactly as Django renders
  them. What is left is put through an HTML parser: text between tags and the attributes a user
  reads or hears (``title``, ``placeholder``, ``alt``, ``aria-label``, confirmation prompts) must
  hold no word. Scripts and styles are code, not text.
- **Python modules.** The syntax tree is walked for the places a string reaches a user: form field
  labels and help texts, model verbose names, choices, validation errors, flash messages, widget
  placeholders, plain HTTP responses. A literal with a word in one of them is a finding; a call to
  ``gettext`` / ``gettext_lazy`` / ``pgettext`` / ``ngettext`` (under any of their usual names) is
  what they should hold.

A word is two letters in a row. Tokens that are the same in every language (product and format
names, units) are listed in ``SAME_IN_EVERY_LANGUAGE``; keep it short.
"""

from __future__ import annotations

import ast
import html
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

ROOT = Path(__file__).resolve().parent.parent
SOURCE_FOLDERS = (
    "portal",
    "catalog",
    "customers",
    "marketplace",
    "orders",
    "subscriptions",
    "resellers",
    "pools",
    "pool_assignments",
    "reports",
    "templates",
)
# Python that only operators or developers read: management commands speak English to ops, migrations
# and simulators are not the console's screens.
PYTHON_EXCLUDED_PARTS = {"migrations", "management", "simulators", "demo", "tests"}
PYTHON_EXCLUDED_NAMES = {"settings"}

# Names, codes and units a translator would leave as they are.
SAME_IN_EVERY_LANGUAGE = {
    "ALSO",
    "ALEF",
    "Cloudmore",
    "Microsoft",
    "Partner",
    "Center",
    "CSP",
    "NCE",
    "CSV",
    "XLSX",
    "PDF",
    "ID",
    "IDs",
    "OK",
    "MFA",
    "URL",
    "API",
    "EUR",
    "USD",
    "GBP",
    "CHF",
    "JPY",
    "Entra",
    "onmicrosoft",
    "com",
    "htmx",
    "MSP",
    "LAR",
    "SKU",
    "English",
    "Deutsch",
    "Français",
    "日本語",
}

VISIBLE_ATTRIBUTES = {
    "title",
    "placeholder",
    "alt",
    "aria-label",
    "hx-confirm",
    "data-confirm",
    "data-bs-title",
    "label",
}
WORD = re.compile(r"[^\W\d_]{2,}")
# What stands where a tag or variable stood: a space keeps tags parseable and words apart.
HOLE = " "
# Addresses, domains and codes with digits are examples or identifiers, the same in every language.
IDENTIFIER = re.compile(r"\S*[@\d]\S*|\S+\.\S+")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.text!r}"


def shows_words(text: str) -> bool:
    """Whether ``text`` holds a word a translator would have to translate."""
    words = WORD.findall(IDENTIFIER.sub(" ", html.unescape(text)))
    return any(word not in SAME_IN_EVERY_LANGUAGE for word in words)


# --- templates -------------------------------------------------------------------------------------

_TEXT_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}
_SKIPPED_BLOCKS = {"comment": "endcomment", "verbatim": "endverbatim"}


def _template_text(source: str) -> tuple[str, list[int]]:
    """The template with every tag, variable and translated block replaced by a hole.

    Returns the text and, per character, its line in the source, so findings point at the template.
    """
    out: list[str] = []
    lines: list[int] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if closing:
            if token.token_type == TokenType.BLOCK and token.contents.split()[0] == closing:
                closing = None
            continue
        if token.token_type == TokenType.TEXT:
            chunk = token.contents
        else:
            chunk = HOLE
            if token.token_type == TokenType.BLOCK:
                name, *arguments = token.contents.split()
                closing = _TEXT_BLOCKS.get(name) or _SKIPPED_BLOCKS.get(name)
                if name == "block" and arguments and arguments[0].endswith("_class"):
                    closing = "endblock"  # CSS classes for the base template's <body>
        out.append(chunk)
        line = token.lineno
        for character in chunk:
            lines.append(line)
            if character == "\n":
                line += 1
    return "".join(out), lines


class _VisibleText(HTMLParser):
    def __init__(self, lines: list[int]) -> None:
        super().__init__(convert_charrefs=False)
        self.lines = lines
        self.offsets = [0]
        self.in_code = 0
        self.found: list[tuple[int, str]] = []

    def _line(self) -> int:
        line, column = self.getpos()
        offset = self.offsets[line - 1] + column if line - 1 < len(self.offsets) else 0
        return self.lines[min(offset, len(self.lines) - 1)] if self.lines else line

    def feed_source(self, text: str) -> None:
        for line in text.splitlines(keepends=True):
            self.offsets.append(self.offsets[-1] + len(line))
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self.in_code += 1
        for name, value in attrs:
            if value and name in VISIBLE_ATTRIBUTES and shows_words(value):
                self.found.append((self._line(), f"{name}={value.strip()}"))
        if tag == "input" and dict(attrs).get("type") in {"submit", "button", "reset"}:
            value = dict(attrs).get("value") or ""
            if shows_words(value):
                self.found.append((self._line(), f"value={value.strip()}"))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self.in_code:
            self.in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self.in_code and shows_words(data):
            self.found.append((self._line(), " ".join(data.split())))

    def handle_entityref(self, name: str) -> None:  # &nbsp; and friends are not words
        return None


def template_findings(path: Path) -> list[Finding]:
    text, lines = _template_text(path.read_text(encoding="utf-8"))
    parser = _VisibleText(lines)
    parser.feed_source(text)
    return [Finding(path, line, found) for line, found in parser.found]


def template_files() -> Iterator[Path]:
    for folder in SOURCE_FOLDERS:
        for suffix in ("*.html", "*.txt"):
            for path in sorted((ROOT / folder).rglob(suffix)):
                if "templates" in path.parts:
                    yield path


# --- Python ----------------------------------------------------------------------------------------

TRANSLATING_CALLS = {
    "_",
    "gettext",
    "gettext_lazy",
    "pgettext",
    "pgettext_lazy",
    "ngettext",
    "ngettext_lazy",
    "npgettext",
    "npgettext_lazy",
    "format_lazy",
    "format_html",
    "mark_safe",
}
VISIBLE_KEYWORDS = {
    "label",
    "help_text",
    "verbose_name",
    "verbose_name_plural",
    "empty_label",
    "empty_value",
    "placeholder",
    "title",
    "message",
    "orderable_label",
    "empty_text",
    "summary",
}
VISIBLE_ATTRIBUTE_KEYS = {"placeholder", "title", "aria-label", "data-confirm", "hx-confirm"}
# The first positional argument of these is shown to the user.
FIRST_ARGUMENT_SHOWN = {"ValidationError", "HttpResponse", "HttpResponseBadRequest", "HttpResponseForbidden", "Http404"}
# messages.success(request, "…") and form.add_error("field", "…"): the second one is.
SECOND_ARGUMENT_SHOWN = {"success", "error", "warning", "info", "debug", "add_error"}


def _call_name(node: ast.Call) -> str:
    function = node.func
    if isinstance(function, ast.Attribute):
        return function.attr
    if isinstance(function, ast.Name):
        return function.id
    return ""


def _literal_words(node: ast.AST | None) -> str | None:
    """The text of a string literal or f-string that holds words, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and shows_words(node.value):
        return node.value
    if isinstance(node, ast.JoinedStr):
        text = "".join(part.value for part in node.values if isinstance(part, ast.Constant))
        return text if shows_words(text) else None
    return None


class _ShownStrings(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self.in_choices = 0

    def _check(self, node: ast.AST | None) -> None:
        text = _literal_words(node)
        if text is not None and node is not None:
            self.found.append((node.lineno, text))

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node)
        if name in TRANSLATING_CALLS:
            return  # what is inside is translated; its arguments are formats for it
        if name in FIRST_ARGUMENT_SHOWN and node.args:
            self._check(node.args[0])
        if name in SECOND_ARGUMENT_SHOWN and len(node.args) >= 2:
            self._check(node.args[1])
        for keyword in node.keywords:
            if keyword.arg in VISIBLE_KEYWORDS:
                self._check(keyword.value)
            if keyword.arg == "attrs" and isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in VISIBLE_ATTRIBUTE_KEYS:
                        self._check(value)
            if keyword.arg == "choices" and isinstance(keyword.value, ast.List | ast.Tuple):
                self._check_choices(keyword.value)
            if keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
                for value in keyword.value.values:
                    self._check(value)
        self.generic_visit(node)

    def _check_choices(self, node: ast.List | ast.Tuple) -> None:
        for item in node.elts:
            if isinstance(item, ast.Tuple) and len(item.elts) == 2:
                self._check(item.elts[1])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "") for base in node.bases}
        if bases & {"TextChoices", "IntegerChoices", "Choices"}:
            for statement in node.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple):
                    if len(statement.value.elts) >= 2:
                        self._check(statement.value.elts[-1])
        self.generic_visit(node)


# A line that ends with this comment, and says why, holds a string no person reads (a health check's body).
NOT_SHOWN = "# untranslated:"


def python_findings(path: Path) -> list[Finding]:
    source = path.read_text(encoding="utf-8")
    visitor = _ShownStrings()
    visitor.visit(ast.parse(source, filename=str(path)))
    lines = source.splitlines()
    return [Finding(path, line, text) for line, text in visitor.found if NOT_SHOWN not in lines[line - 1]]


def python_files() -> Iterator[Path]:
    for folder in SOURCE_FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).parts
            if PYTHON_EXCLUDED_PARTS.intersection(relative) or PYTHON_EXCLUDED_NAMES.intersection(relative):
                continue
            yield path


def all_findings() -> Iterable[Finding]:
    for path in template_files():
        yield from template_findings(path)
    for path in python_files():
        yield from python_findings(path)


def main() -> int:
    findings = list(all_findings())
    for finding in findings:
        print(finding)
    print(f"{len(findings)} untranslated strings", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
