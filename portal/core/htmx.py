"""What every app's views answer htmx with: one view, one template per screen, and a named partial
(`{% partialdef %}`) for an htmx request that swaps part of the page.

A boosted request (`hx-boost` links) wants the whole page, as a normal request does.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed


def wants_partial(request: HttpRequest) -> bool:
    """Whether htmx asks for part of the page (not a boosted navigation, not a normal request)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def partial_template(request: HttpRequest, template: str, name: str) -> str:
    """The template for the request: `template#name` for an htmx swap, else the whole `template`."""
    return f"{template}#{name}" if wants_partial(request) else template


def partial_for_target(
    request: HttpRequest, template: str, partials: Mapping[str, str], default: str | None = None
) -> str:
    """The partial the swapped element needs, picked by the element htmx targets (`HX-Target`).

    A target not in `partials` gets `default`, or the whole page when there is no default."""
    if not wants_partial(request):
        return template
    name = partials.get(request.htmx.target or "", default)
    return f"{template}#{name}" if name else template


def post_only(request: HttpRequest) -> HttpResponse | None:
    """For an action on an object: the view looks the object up first (404), then calls this (405),
    so a GET never confirms that an object exists. None when the request is a POST."""
    return None if request.method == "POST" else HttpResponseNotAllowed(["POST"])


def get_only(request: HttpRequest) -> HttpResponse | None:
    """For a page of an object: scope first (404), then the method (405). None for GET and HEAD."""
    return None if request.method in ("GET", "HEAD") else HttpResponseNotAllowed(["GET"])
