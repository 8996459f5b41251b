"""Marketplace account secrets, encrypted at rest with Fernet keys from the environment.

`MARKETPLACE_SECRET_KEYS` lists keys newest first: the first encrypts, every key decrypts, so a new
key is rolled out by putting it in front, running `rotate_marketplace_secrets`, then dropping the
old key. A secret is decrypted only to build a provider connection; nothing renders it.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """No configured key decrypts the stored secret (a key was dropped before rotating)."""


@cache
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, ...]:
    if not keys:
        raise ImproperlyConfigured("MARKETPLACE_SECRET_KEYS must be set when DEBUG is off.")
    try:
        return tuple(Fernet(key.encode()) for key in keys)
    except ValueError as error:
        raise ImproperlyConfigured(f"MARKETPLACE_SECRET_KEYS holds a key that is not a Fernet key: {error}") from None


def _keys() -> tuple[Fernet, ...]:
    return _fernets(tuple(settings.MARKETPLACE_SECRET_KEYS))


def secret_encrypt(plaintext: str) -> str:
    return MultiFernet(list(_keys())).encrypt(plaintext.encode()).decode()


def secret_decrypt(ciphertext: str) -> str:
    try:
        return MultiFernet(list(_keys())).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("No key in MARKETPLACE_SECRET_KEYS decrypts this secret") from None


def secret_is_current(ciphertext: str) -> bool:
    """Whether the newest key encrypted it (nothing to rotate)."""
    try:
        _keys()[0].decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True


def secret_rotate(ciphertext: str) -> str:
    """The same secret encrypted with the newest key."""
    try:
        return MultiFernet(list(_keys())).rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("No key in MARKETPLACE_SECRET_KEYS decrypts this secret") from None
