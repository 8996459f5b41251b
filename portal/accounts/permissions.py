"""The one permission check every view uses, and the customer scope every selector uses.

A user's level for a module is the highest any of their roles grants; the Administrators role and
superusers have every permission on every customer. A customer tenant admin is capped by
CUSTOMER_ADMIN_MODULE_CEILING and only ever sees the customers bound to them.

Lacking a module permission is a 403 on the module's pages (the page exists, the user may not use
it). An object outside the user's scope is a 404, which selectors give by not returning it; a user
with no access at all to a module has no object of it in scope, so its object pages are a 404 too
and never confirm that an id exists. A 403 on an object page means the object is in scope and only
the action is not the role's.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from portal.accounts.choices import (
    ADMINISTRATORS_ROLE_NAME,
    CUSTOMER_ADMIN_MODULE_CEILING,
    AccessLevel,
    PermissionModule,
    UserKind,
)

_CACHE_ATTRIBUTE = "_console_permission_cache"


def _role_levels(user) -> tuple[dict[str, int], bool]:
    """({module: level}, covers_all_customers), computed once per user object (one query)."""
    cached = getattr(user, _CACHE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    levels: dict[str, int] = {}
    all_customers = False
    if user.is_superuser:
        levels = {module: int(AccessLevel.MANAGE) for module in PermissionModule.values}
        all_customers = True
    else:
        for role in user.roles.all():
            if role.is_builtin:
                all_customers = True
            elif role.all_customers:
                all_customers = True
            for module in PermissionModule.values:
                levels[module] = max(levels.get(module, 0), role.level_for(module))
    if user.kind == UserKind.CUSTOMER_ADMIN:
        levels = {
            module: min(level, CUSTOMER_ADMIN_MODULE_CEILING.get(module, AccessLevel.NONE))
            for module, level in levels.items()
        }
        all_customers = False
    result = (levels, all_customers)
    setattr(user, _CACHE_ATTRIBUTE, result)
    return result


def forget_permissions(user) -> None:
    """After roles change within a request (tests, services), recompute on next use."""
    if hasattr(user, _CACHE_ATTRIBUTE):
        delattr(user, _CACHE_ATTRIBUTE)


def user_level(user, module: str) -> int:
    if user is None or not user.is_authenticated or not user.is_active:
        return AccessLevel.NONE
    levels, _ = _role_levels(user)
    return levels.get(module, AccessLevel.NONE)


def user_has_permission(user, module: str, level: int = AccessLevel.VIEW) -> bool:
    return user_level(user, module) >= level


def user_sees_all_customers(user) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return _role_levels(user)[1]


def user_is_administrator(user) -> bool:
    """A partner user with the built-in Administrators role (or a superuser). Never a customer
    tenant admin, whatever role they were given: their ceiling applies everywhere."""
    if not user.is_authenticated or user.kind != UserKind.PARTNER:
        return False
    return user.is_superuser or user.roles.filter(name=ADMINISTRATORS_ROLE_NAME, is_builtin=True).exists()


def user_sees_cost_prices(user) -> bool:
    """Cost prices are the partner's business: never shown to customer tenant admins."""
    return (
        user.is_authenticated and user.kind == UserKind.PARTNER and user_has_permission(user, PermissionModule.CATALOG)
    )


def permission_check(user, module: str, level: int) -> None:
    """The level an action needs, checked inside a view after it looked its object up in the
    user's scope (so an object out of scope is a 404 before the level is a 403). Such a view is
    decorated with `permission_required(module, VIEW)`."""
    if not user_has_permission(user, module, level):
        raise PermissionDenied


def names_an_object(kwargs: dict) -> bool:
    """Whether a URL's arguments point at one object (`pk`, `tenant_pk`, `customer_id`, ...)."""
    return any(name == "pk" or name.endswith(("_pk", "_id")) or name == "add_on" for name in kwargs)


def permission_required(module: str, level: int = AccessLevel.VIEW) -> Callable:
    """View decorator: signed in (else redirect to sign-in) and the module permission (else 403;
    404 on an object's page when the user has no access to the module at all)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not user_has_permission(request.user, module, level):
                if names_an_object(kwargs) and not user_has_permission(request.user, module, AccessLevel.VIEW):
                    raise Http404
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.permission = (module, level)
        return wrapped

    return decorator
