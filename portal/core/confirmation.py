"""The typed confirmation of a destructive action ("Type Yes to confirm")."""

from django.utils.translation import pgettext


def confirmation_typed(typed: str) -> bool:
    """Whether the person typed Yes: the English word, or the word their language's prompt asks for
    ("Ja", "Oui", "はい"), in any case."""
    word = typed.strip().casefold()
    return word in {"yes", pgettext("the word typed to confirm a deletion", "Yes").casefold()}
