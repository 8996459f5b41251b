"""Reads of a large account reseller's directory, and the one read that crosses partners.

Reseller links live in the public schema. A reseller's customers and their pooled assignments
live in the reseller's own schema: the LAR reads them only through `reseller_customer_usage`,
which switches to that one schema, asks one question, and masks the customers' names when the
reseller has switched "View reseller's customers" off.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from pool_assignments.choices import HOLDING_STATUSES as ASSIGNMENT_HOLDING_STATUSES
from pool_assignments.choices import AssignmentStatus
from pool_assignments.models import PoolAssignment
from pools.choices import HOLDING_STATUSES, PaymentType, PoolService
from pools.models import PoolAllocation
from portal.core.names import name_clean, name_collision, name_collision_message
from portal.partners.choices import PartnerStatus
from portal.partners.models import Partner
from resellers.choices import CandidateMatch, ResellerStatus
from resellers.models import ResellerLink

# Addresses at these domains say nothing about an organisation: no search by their domain.
PUBLIC_EMAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "proton.me",
        "protonmail.com",
    }
)
CANDIDATES_SHOWN = 20


# --- Directory ----------------------------------------------------------------------------------


def resellers_of(*, large_account_reseller: Partner) -> QuerySet[ResellerLink]:
    """The LAR's directory, each link with `pool_count` (allocations holding seats) annotated."""
    pools = (
        PoolAllocation.objects.filter(
            pool__owner=OuterRef("large_account_reseller"), reseller=OuterRef("reseller"), status__in=HOLDING_STATUSES
        )
        .order_by()
        .values("reseller")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        ResellerLink.objects.filter(large_account_reseller=large_account_reseller)
        .select_related("reseller", "large_account_reseller")
        .annotate(pool_count=Coalesce(Subquery(pools, output_field=IntegerField()), Value(0)))
    )


def reseller_links_mapped(*, large_account_reseller: Partner) -> QuerySet[ResellerLink]:
    return resellers_of(large_account_reseller=large_account_reseller).filter(
        status=ResellerStatus.MAPPED, reseller__isnull=False
    )


def reseller_link_of(*, large_account_reseller: Partner, reseller: Partner) -> ResellerLink | None:
    return (
        ResellerLink.objects.select_related("reseller", "large_account_reseller")
        .filter(large_account_reseller=large_account_reseller, reseller=reseller)
        .first()
    )


def provider_links_of(*, reseller: Partner) -> QuerySet[ResellerLink]:
    """The reseller side: the large account resellers that invited or mapped this partner."""
    return (
        ResellerLink.objects.filter(reseller=reseller)
        .select_related("large_account_reseller", "reseller")
        .order_by("large_account_reseller__name")
    )


# --- Single invite search -----------------------------------------------------------------------


@dataclass(frozen=True)
class ResellerCandidate:
    partner: Partner
    invitable: bool
    reason: str = ""


@dataclass(frozen=True)
class CandidateSearch:
    match: str
    candidates: list[ResellerCandidate]

    @property
    def found(self) -> bool:
        return bool(self.candidates)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def organisation_name_problem(*, large_account_reseller: Partner, name: str, exclude_pk: int | None = None) -> str:
    """Why an organisation name cannot go into the LAR's reseller directory ("" when it can): a
    refused character, too long, or a look-alike of a name already there (`exclude_pk`: the link
    being written). `name` is what `name_normalise` made of the input; the batch preview judges
    its rows the same way in `resellers.batch.batch_rows_classify`."""
    if not name:
        return ""
    try:
        name_clean(name, max_length=ResellerLink._meta.get_field("organisation_name").max_length)
    except ValidationError as error:
        return _("Organisation name: %(problem)s") % {"problem": error.messages[0]}
    existing = ResellerLink.objects.filter(large_account_reseller=large_account_reseller).exclude(organisation_name="")
    if exclude_pk is not None:
        existing = existing.exclude(pk=exclude_pk)
    collision = name_collision(name, existing.values_list("organisation_name", flat=True).iterator())
    if collision is not None:
        return _("Organisation name: %(problem)s") % {"problem": name_collision_message(name, collision)}
    return ""


def partner_not_invitable_reason(*, large_account_reseller: Partner, partner: Partner) -> str:
    """Why the LAR cannot invite this partner ("" when it can)."""
    if partner.pk == large_account_reseller.pk:
        return _("This is your own organisation.")
    if partner.is_large_account_reseller:
        return _("Another large account reseller cannot be invited.")
    if partner.status != PartnerStatus.ACTIVE or partner.is_platform:
        return _("This partner is not active.")
    return ""


def _candidates(large_account_reseller: Partner, partners: Iterable[Partner]) -> list[ResellerCandidate]:
    partners = list(partners)
    linked = dict(
        ResellerLink.objects.filter(
            large_account_reseller=large_account_reseller, reseller__in=[partner.pk for partner in partners]
        ).values_list("reseller_id", "status")
    )
    candidates = []
    for partner in partners:
        reason = partner_not_invitable_reason(large_account_reseller=large_account_reseller, partner=partner)
        if not reason and partner.pk in linked and linked[partner.pk] != ResellerStatus.DECLINED:
            reason = _("Already in your reseller directory.")
        candidates.append(ResellerCandidate(partner=partner, invitable=not reason, reason=reason))
    return candidates


def reseller_candidates(*, large_account_reseller: Partner, email: str, organisation_name: str = "") -> CandidateSearch:
    """Single invite: first the partner whose tenant owner has this email address; only when there
    is none, partners by the address's domain and by organisation name."""
    email = email.strip()
    partners = Partner.objects.exclude(schema_name="public").order_by("name")
    by_owner = list(partners.filter(owner_email__iexact=email)[:CANDIDATES_SHOWN]) if email else []
    if by_owner:
        return CandidateSearch(CandidateMatch.OWNER_EMAIL, _candidates(large_account_reseller, by_owner))
    condition = Q()
    domain = email_domain(email)
    if domain and domain not in PUBLIC_EMAIL_DOMAINS:
        condition |= Q(owner_email__iendswith=f"@{domain}")
    name = " ".join(organisation_name.split())
    if len(name) >= 2:
        condition |= Q(name__icontains=name)
    if not condition:
        return CandidateSearch(CandidateMatch.NONE, [])
    found = list(partners.filter(condition)[:CANDIDATES_SHOWN])
    if not found:
        return CandidateSearch(CandidateMatch.NONE, [])
    return CandidateSearch(CandidateMatch.DOMAIN_OR_NAME, _candidates(large_account_reseller, found))


def partner_registered_with(*, email: str) -> Partner | None:
    """The partner whose tenant owner has this address, if any."""
    return Partner.objects.exclude(schema_name="public").filter(owner_email__iexact=email.strip()).first()


# --- The cross-partner read ---------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerAssignmentRow:
    """One pooled assignment of a reseller's customer, as the LAR may see it."""

    assignment_id: int
    customer_id: int
    customer_label: str
    allocation_id: int
    pool_name: str
    service: str
    license_type: str
    seats: int
    first_assigned_on: date
    expires_on: date
    status: str

    @property
    def service_label(self) -> str:
        return str(PoolService(self.service).label) if self.service in PoolService.values else self.service

    @property
    def license_type_label(self) -> str:
        return str(PaymentType(self.license_type).label) if self.license_type in PaymentType.values else ""

    @property
    def status_label(self) -> str:
        return str(AssignmentStatus(self.status).label)


@dataclass
class ResellerCustomerUsage:
    """What a LAR may know of one reseller's customers: rows already masked when hidden."""

    customers_visible: bool
    rows: list[CustomerAssignmentRow] = field(default_factory=list)

    @property
    def assigned_by_allocation(self) -> dict[int, int]:
        assigned: dict[int, int] = {}
        for row in self.rows:
            assigned[row.allocation_id] = assigned.get(row.allocation_id, 0) + row.seats
        return assigned

    @property
    def assigned_seats(self) -> int:
        return sum(row.seats for row in self.rows)

    @property
    def customer_count(self) -> int:
        """Customers with an active pooled subscription from this LAR."""
        return len({row.customer_id for row in self.rows if row.status == AssignmentStatus.ACTIVE})

    def customer_choices(self) -> list[tuple[int, str]]:
        labels = {row.customer_id: row.customer_label for row in self.rows}
        return sorted(labels.items(), key=lambda item: item[1].lower())


def masked_customer_label(customer_id: int) -> str:
    return _("Hidden customer #%(number)s") % {"number": customer_id}


def reseller_customer_usage(*, link: ResellerLink, today: date | None = None) -> ResellerCustomerUsage:
    """The LAR's one view into a reseller's schema: the reseller's customers that hold seats of
    this LAR's pools, with their assignments. One query, in the reseller's schema only (it joins
    the public allocation and pool tables, never another partner's schema). Customer names are
    not even read when the reseller hides them."""
    usage = ResellerCustomerUsage(customers_visible=link.customers_visible)
    if link.reseller_id is None:
        return usage
    today = today or timezone.localdate()
    reseller = link.reseller
    fields = [
        "pk",
        "customer_id",
        "allocation_id",
        "allocation__pool__name",
        "service",
        "license_type",
        "seats",
        "first_assigned_on",
        "expires_on",
        "status",
    ]
    if link.customers_visible:
        fields.append("customer__name")
    with schema_context(reseller.schema_name):
        values = list(
            PoolAssignment.objects.filter(
                allocation__pool__owner_id=link.large_account_reseller_id,
                allocation__reseller_id=reseller.pk,
                status__in=ASSIGNMENT_HOLDING_STATUSES,
                expires_on__gt=today,
            )
            .order_by("customer_id", "-first_assigned_on", "-pk")
            .values(*fields)
        )
    for value in values:
        label = value["customer__name"] if link.customers_visible else masked_customer_label(value["customer_id"])
        usage.rows.append(
            CustomerAssignmentRow(
                assignment_id=value["pk"],
                customer_id=value["customer_id"],
                customer_label=label,
                allocation_id=value["allocation_id"],
                pool_name=value["allocation__pool__name"],
                service=value["service"],
                license_type=value["license_type"],
                seats=value["seats"],
                first_assigned_on=value["first_assigned_on"],
                expires_on=value["expires_on"],
                status=value["status"],
            )
        )
    return usage


# --- Invitation links -----------------------------------------------------------------------------

INVITATION_SALT = "resellers.invitation"
# An emailed reseller invitation's sign-up link works this long (seconds).
INVITATION_MAX_AGE = 60 * 24 * 3600


def reseller_invitation_token(*, link: ResellerLink) -> str:
    """The signed token of an email invitation's sign-up link: it names the invitation and cannot be forged."""
    return signing.dumps({"link": link.pk, "email": link.email}, salt=INVITATION_SALT, compress=True)


def reseller_invitation_from_token(*, token: str) -> ResellerLink | None:
    """The email invitation a sign-up link names, while it still waits for a partner; None otherwise."""
    try:
        data = signing.loads(token, salt=INVITATION_SALT, max_age=INVITATION_MAX_AGE)
    except signing.BadSignature:
        return None
    return (
        ResellerLink.objects.select_related("large_account_reseller")
        .filter(
            pk=data.get("link"),
            email__iexact=data.get("email", ""),
            reseller__isnull=True,
            status=ResellerStatus.UNMAPPED,
        )
        .first()
    )
