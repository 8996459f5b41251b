"""The rules of pooled subscriptions, through the services that enforce them.

beta is the large account reseller (LAR), alpha its reseller. LAR-side services run in beta's
schema (their audit trail), reseller-side ones in alpha's (where its customers live).
"""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from pool_assignments.choices import AssignmentStatus
from pool_assignments.models import PoolAssignment
from pool_assignments.selectors import customer_license_type
from pool_assignments.services import pool_assignment_create, pool_assignment_end
from pools.choices import AllocationStatus, ExpiryMode, PaymentType, PoolService
from pools.models import Pool, PoolAllocation
from pools.services import (
    allocation_accept,
    allocation_create,
    allocation_decline,
    allocation_return,
    allocation_update,
    pool_create,
    pool_update,
    pools_expire,
)
from portal.audit.models import AuditEvent
from resellers.choices import ResellerStatus
from tests.pools.pool_support import (
    admin_of,
    allocation_make,
    assignment_make,
    customer_make,
    days,
    link_make,
    pool_make,
    today,
)


@pytest.fixture
def world(partner_alpha, partner_beta):
    link = link_make(partner_beta, partner_alpha)
    return {
        "link": link,
        "lar": partner_beta,
        "reseller": partner_alpha,
        "lar_admin": admin_of(partner_beta),
        "reseller_admin": admin_of(partner_alpha),
        "pool": pool_make(partner_beta, seats=100, expires_in=200),
    }


def _allocate(world, seats, **kwargs):
    with schema_context(world["lar"].schema_name):
        return allocation_create(
            actor=world["lar_admin"],
            link=world["link"],
            pool=kwargs.pop("pool", world["pool"]),
            payment_type=kwargs.pop("payment_type", PaymentType.PREPAID),
            seats=seats,
            **kwargs,
        )


def _errors(excinfo) -> str:
    return " ".join(excinfo.value.messages)


# --- free seats ---------------------------------------------------------------------------------


def test_an_allocation_never_exceeds_the_pools_free_seats(world):
    first = _allocate(world, 60)
    assert first.status == AllocationStatus.PENDING
    with pytest.raises(ValidationError) as excinfo:
        _allocate(world, 41)
    assert "Only 40 seats of this pool are free" in _errors(excinfo)
    _allocate(world, 40)
    assert sum(PoolAllocation.objects.filter(pool=world["pool"]).values_list("seats", flat=True)) == 100


def test_returned_and_declined_seats_are_free_again(world):
    offered = _allocate(world, 70)
    with schema_context(world["lar"].schema_name):
        allocation_return(actor=world["lar_admin"], allocation=offered)
    declined = _allocate(world, 100)
    with schema_context(world["reseller"].schema_name):
        allocation_decline(actor=world["reseller_admin"], partner=world["reseller"], allocation=declined)
    assert _allocate(world, 100).seats == 100


def test_only_a_mapped_reseller_gets_pools(world):
    world["link"].status = ResellerStatus.PENDING
    world["link"].save()
    with pytest.raises(ValidationError) as excinfo:
        _allocate(world, 1)
    assert "mapped reseller" in _errors(excinfo)


def test_a_lar_cannot_allocate_another_lars_pool(world, partner_alpha):
    foreign = pool_make(partner_alpha, seats=10)  # a pool row of another partner
    with pytest.raises(ValidationError) as excinfo:
        _allocate(world, 1, pool=foreign)
    assert "not yours" in _errors(excinfo)


def test_pool_seats_cannot_drop_below_what_is_allocated(world):
    _allocate(world, 60)
    with schema_context(world["lar"].schema_name), pytest.raises(ValidationError) as excinfo:
        pool_update(actor=world["lar_admin"], pool=world["pool"], seats=59)
    assert "60 seats are allocated" in _errors(excinfo)


def test_pool_create_is_for_large_account_resellers(world, partner_alpha):
    with schema_context(world["lar"].schema_name):
        pool = pool_create(
            actor=world["lar_admin"], owner=world["lar"], service=PoolService.INSIGHTS, seats=5, expires_on=days(30)
        )
        assert pool.name == "Insights"
        with pytest.raises(ValidationError):
            pool_create(
                actor=world["lar_admin"], owner=partner_alpha, service=PoolService.INSIGHTS, seats=5, expires_on=days(9)
            )


# --- expiration dates ---------------------------------------------------------------------------


def test_the_resellers_expiry_cannot_pass_the_pools(world):
    with pytest.raises(ValidationError) as excinfo:
        _allocate(world, 5, expiry_mode=ExpiryMode.DATE, expires_on=world["pool"].expires_on + datetime.timedelta(1))
    assert "cannot expire after the pool" in _errors(excinfo)
    allocation = _allocate(world, 5, expiry_mode=ExpiryMode.DATE, expires_on=days(30))
    assert allocation.expires_on == days(30)
    same = _allocate(world, 5)
    assert same.expires_on == world["pool"].expires_on


def test_expire_now_creates_an_expired_allocation_that_holds_no_seats(world):
    expired = _allocate(world, 100, expiry_mode=ExpiryMode.NOW)
    assert expired.status == AllocationStatus.EXPIRED and expired.expires_on == today()
    assert _allocate(world, 100).seats == 100


def test_an_allocation_same_as_the_pool_follows_its_renewal(world):
    same = _allocate(world, 5)
    fixed = _allocate(world, 5, expiry_mode=ExpiryMode.DATE, expires_on=days(30))
    with schema_context(world["lar"].schema_name):
        pool_update(actor=world["lar_admin"], pool=world["pool"], expires_on=days(400))
    same.refresh_from_db()
    fixed.refresh_from_db()
    assert same.expires_on == days(400)
    assert fixed.expires_on == days(30)


def test_the_resellers_allocation_expires_with_the_lars_pool(world, partner_alpha):
    allocation = _allocate(world, 5, expiry_mode=ExpiryMode.DATE, expires_on=days(100))
    with schema_context(partner_alpha.schema_name):
        allocation_accept(actor=world["reseller_admin"], partner=partner_alpha, allocation=allocation)
    customer = customer_make(partner_alpha, "Contoso")
    assignment = assignment_make(allocation, customer, seats=2, expires_on=days(100))
    # The LAR does not renew: its pool ends before the reseller's own date.
    type(world["pool"]).objects.filter(pk=world["pool"].pk).update(expires_on=today())
    run = pools_expire()
    allocation.refresh_from_db()
    assert run.pools_expired == 1
    assert allocation.status == AllocationStatus.EXPIRED
    with schema_context(partner_alpha.schema_name):
        assignment.refresh_from_db()
        assert assignment.status == AssignmentStatus.EXPIRED


def test_shortening_a_pool_cuts_the_resellers_and_customers_dates(world, partner_alpha):
    allocation = allocation_make(world["pool"], partner_alpha, seats=10)
    customer = customer_make(partner_alpha, "Contoso")
    assignment = assignment_make(allocation, customer, seats=2, first_assigned_on=days(-60))
    with schema_context(world["lar"].schema_name):
        pool_update(actor=world["lar_admin"], pool=world["pool"], expires_on=days(20))
    allocation.refresh_from_db()
    assert allocation.expires_on == days(20)
    with schema_context(partner_alpha.schema_name):
        assignment.refresh_from_db()
        assert assignment.expires_on == days(20)
        assert assignment.status == AssignmentStatus.ACTIVE


# --- edit, return, accept -----------------------------------------------------------------------


def test_payment_type_is_editable_only_while_nothing_is_assigned(world, partner_alpha):
    allocation = allocation_make(world["pool"], partner_alpha, seats=10, payment_type=PaymentType.PREPAID)
    with schema_context(world["lar"].schema_name):
        allocation = allocation_update(
            actor=world["lar_admin"],
            allocation=allocation,
            payment_type=PaymentType.PAY_AS_YOU_GO,
            seats=10,
            expiry_mode=ExpiryMode.SAME_AS_POOL,
        )
    assert allocation.payment_type == PaymentType.PAY_AS_YOU_GO
    assignment_make(allocation, customer_make(partner_alpha, "Contoso"), seats=4)
    with schema_context(world["lar"].schema_name), pytest.raises(ValidationError) as excinfo:
        allocation_update(
            actor=world["lar_admin"],
            allocation=allocation,
            payment_type=PaymentType.PREPAID,
            seats=10,
            expiry_mode=ExpiryMode.SAME_AS_POOL,
        )
    assert "payment_type" in excinfo.value.message_dict
    allocation.refresh_from_db()
    assert allocation.payment_type == PaymentType.PAY_AS_YOU_GO


def test_seats_stay_between_what_is_assigned_and_the_pools_free_seats(world, partner_alpha):
    allocation = allocation_make(world["pool"], partner_alpha, seats=10)
    allocation_make(world["pool"], partner_alpha, seats=80)
    assignment_make(allocation, customer_make(partner_alpha, "Contoso"), seats=4)

    def update(seats):
        with schema_context(world["lar"].schema_name):
            return allocation_update(
                actor=world["lar_admin"],
                allocation=allocation,
                payment_type=allocation.payment_type,
                seats=seats,
                expiry_mode=ExpiryMode.SAME_AS_POOL,
            )

    with pytest.raises(ValidationError) as excinfo:
        update(3)
    assert "assigned 4 seats" in _errors(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        update(21)
    assert "Only 20 seats" in _errors(excinfo)
    assert update(20).seats == 20
    with schema_context(world["lar"].schema_name):
        assert AuditEvent.objects.filter(action="pool.allocation_update").count() == 1


def test_return_only_while_pending(world, partner_alpha):
    allocation = _allocate(world, 5)
    with schema_context(partner_alpha.schema_name):
        allocation_accept(actor=world["reseller_admin"], partner=partner_alpha, allocation=allocation)
    with schema_context(world["lar"].schema_name), pytest.raises(ValidationError) as excinfo:
        allocation_return(actor=world["lar_admin"], allocation=allocation)
    assert "pending" in _errors(excinfo)
    pending = _allocate(world, 5)
    with schema_context(world["lar"].schema_name):
        returned = allocation_return(actor=world["lar_admin"], allocation=pending)
    assert returned.status == AllocationStatus.RETURNED


def test_only_the_reseller_offered_a_pool_answers_it(world, partner_alpha, partner_beta):
    allocation = _allocate(world, 5)
    with schema_context(partner_beta.schema_name), pytest.raises(ValidationError):
        allocation_accept(actor=world["lar_admin"], partner=partner_beta, allocation=allocation)
    with schema_context(partner_alpha.schema_name):
        allocation_accept(actor=world["reseller_admin"], partner=partner_alpha, allocation=allocation)
        assert AuditEvent.objects.filter(action="pool.allocation_accept").exists()
    with schema_context(partner_beta.schema_name):
        assert AuditEvent.objects.filter(action="pool.allocation_create").exists()
        assert not AuditEvent.objects.filter(action="pool.allocation_accept").exists()


# --- customer assignments -----------------------------------------------------------------------


def _assign(allocation, customer, seats, **kwargs):
    with schema_context(allocation.reseller.schema_name):
        return pool_assignment_create(
            actor=admin_of(allocation.reseller),
            partner=allocation.reseller,
            allocation=allocation,
            customer=customer,
            seats=seats,
            **kwargs,
        )


def test_assignments_never_exceed_the_allocation(world, partner_alpha):
    allocation = allocation_make(world["pool"], partner_alpha, seats=10)
    _assign(allocation, customer_make(partner_alpha, "Contoso"), 6)
    with pytest.raises(ValidationError) as excinfo:
        _assign(allocation, customer_make(partner_alpha, "Fabrikam"), 5)
    assert "Only 4 seats" in _errors(excinfo)


def test_a_pending_allocation_cannot_be_assigned(world, partner_alpha):
    allocation = allocation_make(world["pool"], partner_alpha, seats=10, status=AllocationStatus.PENDING)
    with pytest.raises(ValidationError):
        _assign(allocation, customer_make(partner_alpha, "Contoso"), 1)


def test_a_customer_assignment_lasts_at_least_31_days(world, partner_alpha):
    allocation = allocation_make(world["pool"], partner_alpha, seats=10)
    customer = customer_make(partner_alpha, "Contoso")
    with pytest.raises(ValidationError) as excinfo:
        _assign(allocation, customer, 1, expires_on=days(30))
    assert "at least 31 days" in _errors(excinfo)
    assert _assign(allocation, customer, 1, expires_on=days(31)).expires_on == days(31)


def test_the_31_day_minimum_gives_way_when_the_pool_ends_sooner(world, partner_alpha):
    allocation = allocation_make(world["pool"], partner_alpha, seats=10, expires_on=days(10))
    customer = customer_make(partner_alpha, "Contoso")
    with pytest.raises(ValidationError) as excinfo:
        _assign(allocation, customer, 1, expires_on=days(11))
    assert "cannot expire after the pool" in _errors(excinfo)
    assert _assign(allocation, customer, 1).expires_on == days(10)


def test_ending_an_assignment_early_keeps_the_31_day_minimum(world, partner_alpha):
    allocation = allocation_make(world["pool"], partner_alpha, seats=10)
    customer = customer_make(partner_alpha, "Contoso")
    fresh = assignment_make(allocation, customer, seats=1, first_assigned_on=days(-5))
    old = assignment_make(allocation, customer_make(partner_alpha, "Fabrikam"), seats=1, first_assigned_on=days(-40))
    with schema_context(partner_alpha.schema_name):
        ended = pool_assignment_end(actor=admin_of(partner_alpha), assignment=fresh)
        assert ended.expires_on == days(26) and ended.status == AssignmentStatus.ACTIVE
        ended = pool_assignment_end(actor=admin_of(partner_alpha), assignment=old)
        assert ended.expires_on == today() and ended.status == AssignmentStatus.EXPIRED


def test_the_most_recent_license_type_prevails(world, partner_alpha, partner_beta):
    prepaid = allocation_make(world["pool"], partner_alpha, seats=10, payment_type=PaymentType.PREPAID)
    other_pool = pool_make(partner_beta, seats=50, payment_type=PaymentType.PAY_AS_YOU_GO)
    pay_as_you_go = allocation_make(other_pool, partner_alpha, seats=10, payment_type=PaymentType.PAY_AS_YOU_GO)
    customer = customer_make(partner_alpha, "Contoso")
    earlier = assignment_make(prepaid, customer, seats=3, first_assigned_on=days(-10))
    _assign(pay_as_you_go, customer, 3)
    with schema_context(partner_alpha.schema_name):
        assert customer_license_type(customer=customer, service=PoolService.BACKUP_M365) == PaymentType.PAY_AS_YOU_GO
        earlier.refresh_from_db()
        # superseded, yet it runs out its 31 days from the first assignment
        assert earlier.status == AssignmentStatus.SUPERSEDED
        assert earlier.expires_on == days(21)
        assert PoolAssignment.objects.filter(customer=customer, status=AssignmentStatus.ACTIVE).count() == 1


def test_the_create_pool_command_records_an_audited_pool(partner_beta, partner_alpha):
    output = io.StringIO()
    call_command(
        "create_pool", "--partner=beta", "--service=insights", "--seats=20", f"--expires={days(90)}", stdout=output
    )
    assert "Recorded pool Insights: 20 seats" in output.getvalue()
    pool = Pool.objects.get(owner=partner_beta)
    with schema_context(partner_beta.schema_name):
        assert AuditEvent.objects.filter(action="pool.create", target_id=str(pool.pk), actor_label="platform").exists()
    with pytest.raises(CommandError, match="Only a large account reseller holds pools."):
        call_command("create_pool", "--partner=alpha", "--service=insights", "--seats=5", f"--expires={days(9)}")
