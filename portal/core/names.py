"""Names people read to recognise an organisation: partners, resellers, customers, customer groups, roles.

A name that looks like another one is an impersonation waiting to happen ("Contoso Ltd" written
with a Cyrillic С, a zero-width space, a right-to-left override). So every such name goes through
here, in its form (the error shows on the field) and again in its service (commands and imports
cannot bypass the form):

- `name_clean` NFKC-normalises (fullwidth and compatibility forms become plain letters), collapses
  whitespace, and refuses control characters (BEL...), bidirectional overrides and isolates, and
  invisible characters (zero-width space / joiner / non-joiner, word joiner, BOM, soft hyphen...);
- `name_collision` finds an existing name that is the same after case folding, or looks the same:
  both names are reduced to a confusable skeleton (Unicode TR39's idea: each character replaced
  by the prototype it is confusable with, from the Unicode confusables data shipped by the pinned
  `confusable-homoglyphs` package), so Cyrillic "Соntoso Ltd" collides with Latin "Contoso Ltd".
"""

import functools
import json
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import confusable_homoglyphs
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

NAME_MAX_LENGTH = 200

# Bidirectional embeddings, overrides and isolates, and the implicit direction marks.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Invisible characters that are not all "format" (Cf): Hangul fillers, the braille blank, ...
_INVISIBLE = frozenset("\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")


def _character_name(character: str) -> str:
    return unicodedata.name(character, f"U+{ord(character):04X}")


def name_problem(value: str) -> str | None:
    """Why a (normalised) name cannot be stored, or None."""
    for character in value:
        category = unicodedata.category(character)
        if character in _BIDI_CONTROLS:
            return _("The name contains a text direction control character (%(character)s): remove it.") % {
                "character": f"U+{ord(character):04X}"
            }
        if category in ("Cc", "Cs", "Co", "Cn"):
            return _("The name contains a control character (%(character)s): remove it.") % {
                "character": f"U+{ord(character):04X}"
            }
        if category == "Cf" or character in _INVISIBLE:
            return _("The name contains an invisible character (%(character)s): remove it.") % {
                "character": _character_name(character)
            }
    return None


def name_normalise(value: str) -> str:
    """NFKC, and whitespace runs (tabs, line breaks) collapsed to one space; other control
    characters are kept, for name_problem to refuse."""
    return " ".join(unicodedata.normalize("NFKC", value or "").split())


def name_clean(value: str, *, max_length: int | None = NAME_MAX_LENGTH, required: bool = True) -> str:
    """The name as stored: normalised, or a ValidationError saying what is wrong with it."""
    name = name_normalise(value)
    if not name:
        if required:
            raise ValidationError(_("Enter a name."), code="required")
        return ""
    problem = name_problem(name)
    if problem:
        raise ValidationError(problem, code="invalid_character")
    max_length = max_length or NAME_MAX_LENGTH  # a model field without a limit gets the house limit
    if len(name) > max_length:
        raise ValidationError(
            _("The name is longer than %(count)s characters.") % {"count": max_length}, code="max_length"
        )
    return name


@functools.cache
def _confusables() -> dict[str, list[dict[str, str]]]:
    path = Path(confusable_homoglyphs.__file__).with_name("confusables.json")
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def _prototype(character: str) -> str:
    """The character a confusable stands for. In the data a non-prototype lists just its prototype,
    and a prototype lists everything confusable with it; a pair that only lists each other is
    represented by its lower code point."""
    entries = _confusables().get(character)
    if not entries:
        return character
    if len(entries) > 1:
        return character
    target = entries[0]["c"].replace("\u200e", "").replace("\u200f", "")
    back = _confusables().get(target, [])
    if len(back) > 1 or len(target) != 1:
        return target
    return min(character, target)


def name_skeleton(value: str) -> str:
    """What a name looks like: normalised, case-folded, each character replaced by its confusable prototype."""
    folded = name_normalise(value).casefold()
    skeleton = "".join(_prototype(character) for character in unicodedata.normalize("NFD", folded))
    # a prototype may itself be upper case or decomposable: settle it once more
    skeleton = unicodedata.normalize("NFD", skeleton.casefold())
    skeleton = "".join(_prototype(character) for character in skeleton)
    return " ".join(skeleton.split())


def name_collision(name: str, existing: Iterable[str]) -> str | None:
    """The first existing name that reads the same as `name` (same skeleton), or None."""
    target = name_skeleton(name)
    for other in existing:
        if other and name_skeleton(other) == target:
            return other
    return None


def name_collision_message(name: str, existing: str, *, duplicate_message: str = "") -> str:
    """The error for a name that collides with `existing`: the caller's own sentence (with
    %(name)s) when it is the same name, else one that says which name it looks like."""
    if duplicate_message and name_normalise(existing).casefold() == name.casefold():
        return duplicate_message % {"name": existing}
    return _("This name looks the same as “%(existing)s”, which already exists.") % {"existing": existing}


def name_ensure_unique(
    *,
    name: str,
    queryset: QuerySet,
    field: str = "name",
    exclude_pk=None,
    duplicate_message: str = "",
    skeleton_field: str = "",
) -> None:
    """Raise a ValidationError naming the existing name when `name` reads the same as one in `queryset`.

    With `skeleton_field` (a stored, indexed `name_skeleton` of `field`) this is one index lookup;
    without, every name of the queryset is read and reduced, which grows with the rows."""
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    if skeleton_field:
        candidates = queryset.filter(**{skeleton_field: name_skeleton(name)}).values_list(field, flat=True)[:1]
        collision = next(iter(candidates), None)
    else:
        collision = name_collision(name, queryset.values_list(field, flat=True).iterator())
    if collision is not None:
        raise ValidationError(
            name_collision_message(name, collision, duplicate_message=duplicate_message), code="duplicate"
        )


def name_checked(
    value: str,
    *,
    queryset: QuerySet,
    field: str = "name",
    exclude_pk=None,
    max_length: int | None = NAME_MAX_LENGTH,
    duplicate_message: str = "",
) -> str:
    """`name_clean` then `name_ensure_unique`, the errors keyed by the field (as services raise them)."""
    try:
        name = name_clean(value, max_length=max_length)
        name_ensure_unique(
            name=name, queryset=queryset, field=field, exclude_pk=exclude_pk, duplicate_message=duplicate_message
        )
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from error
    return name


class NameFormMixin:
    """Form mixin: the fields in `normalised_name_fields` are cleaned by `name_clean`, so a refused
    character shows on the field before the service is called."""

    normalised_name_fields: tuple[str, ...] = ("name",)

    def _clean_fields(self):
        super()._clean_fields()
        for field_name in self.normalised_name_fields:
            if field_name not in self.cleaned_data or field_name not in self.fields:
                continue
            field = self.fields[field_name]
            try:
                self.cleaned_data[field_name] = name_clean(
                    self.cleaned_data[field_name] or "",
                    max_length=getattr(field, "max_length", None) or NAME_MAX_LENGTH,
                    required=field.required,
                )
            except ValidationError as error:
                self.add_error(field_name, error)
