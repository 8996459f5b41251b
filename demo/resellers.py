"""Demo resellers of the demo partner (a large account reseller): one in each status, reseller
partners with their own customers, and a partner that signed up after an email invitation and
waits to be mapped. Idempotent: a second run changes nothing."""

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from customers.models import Customer
from portal.authentication.services_mfa import demo_totp_enrol
from portal.partners.models import Partner
from portal.partners.selectors import partner_by_slug
from portal.partners.services import partner_create, partner_url
from resellers.choices import ResellerStatus
from resellers.models import ResellerLink

RESELLER_PASSWORD = "demo-reseller-pass"

# slug, name, status in the demo LAR's directory (None: registered, not in the directory yet), customers visible
RESELLER_PARTNERS = [
    ("demo-northwind", "Northwind Resale", ResellerStatus.MAPPED, True),
    ("demo-fabrikam", "Fabrikam Cloud Partners", ResellerStatus.MAPPED, False),
    ("demo-tailspin", "Tailspin IT", ResellerStatus.PENDING, True),
    ("demo-litware", "Litware Solutions", ResellerStatus.DECLINED, True),
    ("demo-adventure", "Adventure Works Resale", None, True),
]
# Email invitations of addresses not registered (Adventure Works signed up since: map it).
EMAIL_INVITATIONS = [
    ("owner@demo-adventure.example", "Adventure Works Resale"),
    ("it@wingtip-toys.example", "Wingtip Toys IT"),
]
RESELLER_CUSTOMERS = {
    "demo-northwind": ["Contoso Pharma", "Blue Yonder Airlines", "Proseware Inc."],
    "demo-fabrikam": ["Woodgrove Bank", "Coho Winery"],
}


def reseller_partner_ensure(slug: str, name: str) -> Partner:
    partner = partner_by_slug(slug=slug)
    if partner is None:
        with schema_context("public"):
            partner = partner_create(
                name=name,
                slug=slug,
                admin_email=f"owner@{slug}.example",
                admin_password=RESELLER_PASSWORD,
                is_service_provider=True,
                is_large_account_reseller=False,
            ).partner
    with schema_context(partner.schema_name):
        administrator = get_user_model().objects.filter(username="admin").first()
        if administrator is not None:
            demo_totp_enrol(user=administrator)  # the demo's published authenticator secret (demo.seed)
        for customer_name in RESELLER_CUSTOMERS.get(slug, []):
            Customer.objects.get_or_create(name=customer_name, defaults={"country": "DE", "city": "Berlin"})
    return partner


def seed(partner: Partner) -> list[str]:
    now = timezone.now()
    lines = []
    for slug, name, status, visible in RESELLER_PARTNERS:
        reseller = reseller_partner_ensure(slug, name)
        lines.append(f"  reseller {name}: {partner_url(reseller)} admin / {RESELLER_PASSWORD}")
        if status is None:
            continue
        ResellerLink.objects.get_or_create(
            large_account_reseller=partner,
            reseller=reseller,
            defaults={
                "email": reseller.owner_email,
                "organisation_name": name,
                "status": status,
                "customers_visible": visible,
                "invited_by": "admin@demo.example",
                "responded_at": now if status in (ResellerStatus.MAPPED, ResellerStatus.DECLINED) else None,
                "mapped_at": now if status == ResellerStatus.MAPPED else None,
            },
        )
    for email, name in EMAIL_INVITATIONS:
        if not ResellerLink.objects.filter(large_account_reseller=partner, email__iexact=email).exists():
            ResellerLink.objects.create(
                large_account_reseller=partner,
                email=email,
                organisation_name=name,
                status=ResellerStatus.UNMAPPED,
                invited_by="admin@demo.example",
                invitation_email_sent_at=now,
            )
    count = ResellerLink.objects.filter(large_account_reseller=partner).count()
    lines.insert(0, f"Resellers: {count} in the directory (mapped, pending, declined, unmapped)")
    return lines
