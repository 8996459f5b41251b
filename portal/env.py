"""Small readers for settings from the environment, so every setting states its default."""

import logging
import os


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_development_url(name: str, *, debug: bool) -> str:
    """A simulator's URL (development and demos only). With DEBUG off it is ignored, with a warning: a stray
    `<NAME>_SIMULATOR_URL` in a production environment must not send credentials to another server."""
    value = os.environ.get(name, "").strip()
    if value and not debug:
        logging.getLogger("portal.settings").warning(
            "%s is set but ignored: simulators are for development only (DEBUG is off).", name
        )
        return ""
    return value
