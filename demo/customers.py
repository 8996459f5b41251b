"""Demo customers: a dozen organisations across countries, industries and eligibility, three customer
groups, and Microsoft tenants. Contoso, Fabrikam and Northwind are the identity simulator's seeded
directories (so "Authenticate" works against the simulator); the other tenants are made up.
Idempotent: customers are found by name, tenants by tenant ID.
"""

import zlib

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from customers.choices import ConsentState, CustomerStatus, Industry
from customers.models import Customer, CustomerGroup, CustomerTenant
from customers.services import TENANT_FIELDS, customer_create
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record, model_snapshot
from portal.partners.choices import Currency, Language

GROUPS = {
    "key": ("Key accounts", "Large customers with a named account manager."),
    "public": ("Public sector", "Schools, universities, government and charities."),
    "smb": ("Small business", "Customers served by the inside sales team."),
}

# name, country, city, industry, (academic, government, non-profit), language, currency, groups, status
CUSTOMERS = [
    ("Contoso Ltd", "GB", "London", Industry.TECHNOLOGY, (0, 0, 0), Language.ENGLISH, Currency.GBP, ["key"], "active"),
    (
        "Fabrikam GmbH",
        "DE",
        "Munich",
        Industry.MANUFACTURING,
        (0, 0, 0),
        Language.GERMAN,
        Currency.EUR,
        ["key"],
        "active",
    ),
    (
        "Northwind Traders",
        "US",
        "Seattle",
        Industry.RETAIL,
        (0, 0, 0),
        Language.ENGLISH,
        Currency.USD,
        ["smb"],
        "active",
    ),
    (
        "Adatum Hochschule",
        "DE",
        "Berlin",
        Industry.EDUCATION,
        (1, 0, 0),
        Language.GERMAN,
        Currency.EUR,
        ["public"],
        "active",
    ),
    (
        "Ville de Lyon",
        "FR",
        "Lyon",
        Industry.GOVERNMENT,
        (0, 1, 0),
        Language.FRENCH,
        Currency.EUR,
        ["public"],
        "active",
    ),
    (
        "Helping Hands Foundation",
        "GB",
        "Manchester",
        Industry.NON_PROFIT,
        (0, 0, 1),
        Language.ENGLISH,
        Currency.GBP,
        ["public"],
        "active",
    ),
    ("Alpenbank AG", "CH", "Zurich", Industry.FINANCE, (0, 0, 0), Language.GERMAN, Currency.CHF, ["key"], "active"),
    (
        "Sakura Clinics",
        "JP",
        "Osaka",
        Industry.HEALTHCARE,
        (0, 0, 0),
        Language.JAPANESE,
        Currency.JPY,
        ["key"],
        "active",
    ),
    (
        "Boulangerie Martin",
        "FR",
        "Bordeaux",
        Industry.RETAIL,
        (0, 0, 0),
        Language.FRENCH,
        Currency.EUR,
        ["smb"],
        "active",
    ),
    ("Tailspin Toys", "US", "Austin", Industry.RETAIL, (0, 0, 0), Language.ENGLISH, Currency.USD, ["smb"], "active"),
    (
        "Kyoto Institute of Design",
        "JP",
        "Kyoto",
        Industry.EDUCATION,
        (1, 0, 1),
        Language.JAPANESE,
        Currency.JPY,
        ["public"],
        "active",
    ),
    (
        "Litware Consulting",
        "AT",
        "Vienna",
        Industry.GENERAL,
        (0, 0, 0),
        Language.GERMAN,
        Currency.EUR,
        ["smb"],
        "inactive",
    ),
]

# contact person, street, postal code (demo data: the people are made up)
DETAILS = {
    "Contoso Ltd": ("Megan Bowen", "221 Baker Street", "NW1 6XE"),
    "Fabrikam GmbH": ("Alex Wilber", "Leopoldstrasse 10", "80802"),
    "Northwind Traders": ("Lee Gu", "400 Pine Street", "98101"),
    "Adatum Hochschule": ("Dr. Petra Lang", "Unter den Linden 6", "10117"),
    "Ville de Lyon": ("Claire Dubois", "1 Place de la Comédie", "69001"),
    "Helping Hands Foundation": ("Sam Taylor", "12 Oxford Road", "M1 5QA"),
    "Alpenbank AG": ("Lukas Meier", "Bahnhofstrasse 45", "8001"),
    "Sakura Clinics": ("Yuki Tanaka", "2-1 Umeda", "530-0001"),
    "Boulangerie Martin": ("Julien Martin", "8 Rue Sainte-Catherine", "33000"),
    "Tailspin Toys": ("Jordan Lee", "500 Congress Avenue", "78701"),
    "Kyoto Institute of Design": ("Haruto Sato", "Matsugasaki 1", "606-8585"),
    "Litware Consulting": ("Anna Gruber", "Kärntner Strasse 21", "1010"),
}

# customer, tenant id, domain, display name, consent state
TENANTS = [
    ("Contoso Ltd", "67a08685-ba70-4922-ae8b-802ff5c44282", "contoso.onmicrosoft.com", "Contoso", "consented"),
    ("Fabrikam GmbH", "d110a146-8491-4109-9dce-4139f88ec90a", "fabrikam.onmicrosoft.com", "Fabrikam", "consented"),
    ("Northwind Traders", "48ae22e9-4381-4526-95c4-8fb8bcdb2ec7", "northwind.onmicrosoft.com", "Northwind", ""),
    ("Adatum Hochschule", "5b1d2c3e-4f50-4a61-8b72-9c83d4e5f601", "adatumhochschule.onmicrosoft.com", "", ""),
    ("Ville de Lyon", "6c2e3d4f-5061-4b72-9c83-ad94e5f60712", "villedelyon.onmicrosoft.com", "", "denied"),
    ("Alpenbank AG", "7d3f4e50-6172-4c83-ad94-be05f6071823", "alpenbank.onmicrosoft.com", "", ""),
    ("Alpenbank AG", "8e405f61-7283-4d94-be05-cf1607182934", "alpenbank-test.onmicrosoft.com", "Test tenant", ""),
    ("Sakura Clinics", "9f516072-8394-4ea5-8f16-d02718293a45", "sakuraclinics.onmicrosoft.com", "", ""),
    ("Tailspin Toys", "a0627183-94a5-4fb6-8027-e1382930ab56", "tailspintoys.onmicrosoft.com", "", ""),
]


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower().split(" ")[0] if ch.isalnum())


def seed(partner) -> list[str]:
    actor = get_user_model().objects.filter(username="admin").first() or "demo"
    created_customers = created_tenants = 0
    with transaction.atomic():
        groups = {}
        for key, (name, description) in GROUPS.items():
            group = CustomerGroup.objects.filter(name__iexact=name).first()
            groups[key] = group or CustomerGroup.objects.create(name=name, description=description)
        customers = {}
        for name, country, city, industry, flags, language, currency, group_keys, status in CUSTOMERS:
            customer = Customer.objects.filter(name__iexact=name).first()
            if customer is None:
                slug = _slug(name)
                contact, street, postal_code = DETAILS[name]
                customer = customer_create(
                    actor=actor,
                    fields={
                        "name": name,
                        "status": CustomerStatus(status),
                        "contact_name": contact,
                        "contact_email": f"{contact.split()[-1].lower()}@{slug}.example",
                        "contact_phone": "+1 555 0100",
                        "address_line1": street,
                        "city": city,
                        "postal_code": postal_code,
                        "country": country,
                        "vat_number": f"{country}{zlib.crc32(slug.encode()) % 10**9:09d}" if country != "US" else "",
                        "industry": industry,
                        "is_academic": bool(flags[0]),
                        "is_government": bool(flags[1]),
                        "is_non_profit": bool(flags[2]),
                        "preferred_language": language,
                        "preferred_currency": currency,
                    },
                    groups=[groups[key] for key in group_keys],
                )
                created_customers += 1
            customers[name] = customer
        for customer_name, tenant_id, domain, display_name, consent in TENANTS:
            if CustomerTenant.objects.filter(tenant_id=tenant_id).exists():
                continue
            customer = customers[customer_name]
            tenant = CustomerTenant.objects.create(
                customer=customer,
                tenant_id=tenant_id,
                primary_domain=domain,
                display_name=display_name,
                consent_state=ConsentState(consent) if consent else ConsentState.NOT_CONSENTED,
                consented_at=timezone.now() if consent == ConsentState.CONSENTED else None,
                consented_by=f"admin@{domain}" if consent == ConsentState.CONSENTED else "",
                consent_message=(
                    "Consent was declined at Microsoft: AADSTS65004: The admin declined to consent to access the app."
                    if consent == ConsentState.DENIED
                    else ""
                ),
            )
            audit_record(
                actor=actor,
                action=AuditAction.CUSTOMER_TENANT_ADD,
                target=tenant,
                customer_id=customer.pk,
                after=model_snapshot(tenant, TENANT_FIELDS),
            )
            created_tenants += 1
    total = Customer.objects.count()
    return [f"  customers: {total} ({created_customers} new), tenants added: {created_tenants}, groups: {len(groups)}"]
