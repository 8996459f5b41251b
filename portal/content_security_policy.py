"""The Content-Security-Policy every page of the console is served with (django-csp reads it from settings).

Strict on purpose: scripts and styles come only from our own static files, never inline and never
through eval, so an injected script element, event handler or style attribute does nothing. Templates
pass data to scripts through `data-` attributes or `json_script`, styles live in static/css/console.css,
and static/js/console.js binds the behaviours (tests/security/test_csp.py keeps it that way).

Forms post to the console itself, except that starting a Microsoft sign-in, account link or admin
consent posts to the console, which redirects the browser to Microsoft (or the identity simulator); and
Microsoft answers at the one callback on the public host. Browsers check form-action on every redirect
of a form's navigation, so those origins are allowed as form targets too.
"""

from urllib.parse import urlsplit

from csp.constants import NONE, SELF


def origin_of(url: str) -> str:
    """`https://login.microsoftonline.com/common/` -> `https://login.microsoftonline.com`; "" for no URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(*, public_origin: str, form_targets: list[str]) -> dict:
    """The django-csp 4 setting. `public_origin` is the public host (scheme://domain[:port]);
    `form_targets` the URLs (or origins) of the identity provider that form submissions redirect to."""
    form_action = [SELF]
    for origin in [public_origin, *(origin_of(target) or target for target in form_targets)]:
        if origin and origin not in form_action:
            form_action.append(origin)
    return {
        "DIRECTIVES": {
            "default-src": [SELF],
            "script-src": [SELF],
            "style-src": [SELF],
            # Bootstrap draws form controls' chevrons and checkmarks with data: SVGs in its CSS.
            "img-src": [SELF, "data:"],
            "font-src": [SELF],
            "connect-src": [SELF],
            "object-src": [NONE],
            "base-uri": [SELF],
            "frame-ancestors": [NONE],
            "form-action": form_action,
        }
    }
