"""Emailed links that prove an address: a value signed with a purpose (the salt) and an age limit.

Partner sign-up (public host) and customer registration (a partner's host) both verify an address this
way; the row the link names stays the source of truth (its status says whether the link still acts).
"""

from django.core import signing


def signed_link_token(value: str, *, salt: str) -> str:
    return signing.dumps(str(value), salt=salt)


def signed_link_value(token: str, *, salt: str, max_age: int) -> str | None:
    """The value a link's token carries while it is genuine and younger than `max_age` seconds; else None."""
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    return value if isinstance(value, str) else None
