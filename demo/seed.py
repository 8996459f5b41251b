"""Demo data for the run command. Idempotent: running it again changes nothing but the passwords'
being reset to the printed ones.

Each app that has demo data has a `demo.py` with `seed(partner) -> list[str]`, called inside the
partner's schema in the order of DEMO_SEEDERS (later apps build on earlier ones' data), returning
lines to print (credentials, counts).
"""

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context

from portal.authentication.services_mfa import demo_totp_enrol
from portal.partners.choices import Currency, Language, Region
from portal.partners.models import Partner
from portal.partners.selectors import partner_by_slug
from portal.partners.services import partner_create, partner_template_ensure, partner_url, platform_ensure

DEMO_SLUG = "demo"
DEMO_ADMIN_EMAIL = "admin@demo.example"
DEMO_ADMIN_PASSWORD = "demo-admin-pass"

DEMO_SEEDERS: list[str] = [
    "demo.customers",
    "demo.accounts",  # after customers: binds the tenant admin and the "Key accounts" group
    "demo.marketplace",
    "demo.catalog",
    "demo.orders",
    "demo.subscriptions",  # after the orders' demo: requests become orders
    "demo.resellers",
    "demo.pools",
    "demo.reports",
]


@dataclass
class DemoSeedResult:
    partner: Partner
    lines: list[str] = field(default_factory=list)


def demo_seed(*, seeders: list[str] | None = None) -> DemoSeedResult:
    platform_ensure()
    partner = partner_by_slug(slug=DEMO_SLUG)
    if partner is None:
        partner_template_ensure()
        partner = partner_create(
            name="Demo Partner",
            slug=DEMO_SLUG,
            admin_email=DEMO_ADMIN_EMAIL,
            admin_password=DEMO_ADMIN_PASSWORD,
            is_service_provider=True,
            is_large_account_reseller=True,
            region=Region.EUROPE,
            default_language=Language.ENGLISH,
            default_currency=Currency.EUR,
        ).partner
    with schema_context(partner.schema_name), transaction.atomic():
        admin, _created = get_user_model().objects.get_or_create(
            username="admin",
            defaults={
                "email": DEMO_ADMIN_EMAIL,
                "is_staff": True,
                "is_superuser": True,
                "first_name": "Dana",
                "last_name": "Admin",
                "organisation_name": partner.name,
            },
        )
        admin.set_password(DEMO_ADMIN_PASSWORD)
        admin.is_active = True
        admin.save()
        # Require MFA stays on, as for every partner: the demo's users share a published authenticator secret.
        secret = demo_totp_enrol(user=admin)
    result = DemoSeedResult(partner=partner)
    result.lines.append(f"Demo partner: {partner.name} at {partner_url(partner)}")
    result.lines.append(f"  administrator: admin (or {DEMO_ADMIN_EMAIL}) / {DEMO_ADMIN_PASSWORD}")
    result.lines.append(
        f"  second factor for the demo's users: authenticator key {secret} "
        "(or the current code: ./dev manage totp_code admin)"
    )
    for module_path in DEMO_SEEDERS if seeders is None else seeders:
        if importlib.util.find_spec(module_path) is None:
            continue  # that app has no demo data yet
        seeder: Callable[[Partner], list[str]] = import_string(f"{module_path}.seed")
        with schema_context(partner.schema_name):
            result.lines.extend(seeder(partner))
    return result
