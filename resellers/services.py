"""Writes of a large account reseller's directory: invitations, mapping, visibility, deletion.

Every write is atomic and audited in the schema of the partner that acts (the LAR for its
directory, the reseller for its answers); the other partner's administrators are notified in
their own schema. Refusals are `ValidationError`s with a message for the screen.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from pools.choices import HOLDING_STATUSES
from pools.models import PoolAllocation
from portal.accounts.types import Actor
from portal.audit.choices import AuditAction
from portal.audit.services import audit_record, model_snapshot
from portal.core.confirmation import confirmation_typed
from portal.core.formatting import when_text
from portal.core.names import name_normalise
from portal.core.tasks import enqueue_on_commit
from portal.partners.models import Partner
from resellers.batch import BatchRow, batch_rows_classify
from resellers.choices import BatchRowResult, ResellerStatus
from resellers.models import ResellerLink
from resellers.notifications import partner_administrators_notify
from resellers.selectors import organisation_name_problem, partner_not_invitable_reason, partner_registered_with
from resellers.tasks import reseller_invitation_email_send

LINK_AUDIT_FIELDS = ("status", "reseller", "email", "organisation_name", "customers_visible")


def _actor_label(actor: Actor) -> str:
    if actor is None or isinstance(actor, str):
        return actor or ""
    return actor.email or actor.username


def _require_large_account_reseller(partner: Partner) -> None:
    if not partner.is_large_account_reseller:
        raise ValidationError(_("Only a large account reseller has a reseller directory."), code="not_lar")


def _check_invitable(large_account_reseller: Partner, partner: Partner) -> None:
    reason = partner_not_invitable_reason(large_account_reseller=large_account_reseller, partner=partner)
    if reason:
        raise ValidationError(reason, code="not_invitable")


def _notify_invited(link: ResellerLink) -> None:
    lar_name = link.large_account_reseller.name
    partner_administrators_notify(
        partner=link.reseller,
        title=lambda: _("%(name)s invited you to be its reseller") % {"name": lar_name},
        body=lambda: _("Accept or decline the invitation under Reseller directory > My providers."),
        url=reverse("resellers:my_providers"),
    )


def _organisation_name(large_account_reseller: Partner, organisation_name: str, *, exclude_pk=None) -> str:
    """The organisation name as stored: normalised; a refused character, an overlong name or a
    look-alike of another reseller's name is a ValidationError on the organisation name."""
    name = name_normalise(organisation_name)
    problem = organisation_name_problem(large_account_reseller=large_account_reseller, name=name, exclude_pk=exclude_pk)
    if problem:
        raise ValidationError({"organisation_name": problem})
    return name


def reseller_invite(
    *, actor: Actor, large_account_reseller: Partner, reseller: Partner, organisation_name: str = ""
) -> ResellerLink:
    """Invite a registered partner; it appears as Pending acceptance until it answers."""
    _require_large_account_reseller(large_account_reseller)
    _check_invitable(large_account_reseller, reseller)
    with transaction.atomic():
        link = (
            ResellerLink.objects.select_for_update(of=("self",))
            .filter(large_account_reseller=large_account_reseller, reseller=reseller)
            .first()
        )
        if link is not None and link.status != ResellerStatus.DECLINED:
            raise ValidationError(
                _("%(name)s is already in your reseller directory (%(status)s).")
                % {"name": reseller.name, "status": link.get_status_display()},
                code="already_linked",
            )
        if link is None and reseller.owner_email:
            # An earlier email invitation to this address becomes the invitation of the partner.
            link = (
                ResellerLink.objects.select_for_update(of=("self",))
                .filter(
                    large_account_reseller=large_account_reseller,
                    reseller__isnull=True,
                    email__iexact=reseller.owner_email,
                )
                .first()
            )
        before = model_snapshot(link, LINK_AUDIT_FIELDS) if link is not None else None
        if link is None:
            link = ResellerLink(large_account_reseller=large_account_reseller)
        link.reseller = reseller
        link.email = reseller.owner_email or link.email
        link.organisation_name = (
            _organisation_name(large_account_reseller, organisation_name, exclude_pk=link.pk)
            or link.organisation_name
            or reseller.name
        )
        link.status = ResellerStatus.PENDING
        link.invited_by = _actor_label(actor)
        link.invited_at = timezone.now()
        link.responded_at = None
        link.save()
        audit_record(
            actor=actor,
            action=AuditAction.RESELLER_INVITE,
            target=link,
            before=before,
            after=model_snapshot(link, LINK_AUDIT_FIELDS),
        )
        _notify_invited(link)
    return link


def reseller_invite_by_email(
    *, actor: Actor, large_account_reseller: Partner, email: str, organisation_name: str = "", send_email: bool = True
) -> ResellerLink:
    """Invite an address nobody in the console owns yet: status Unmapped until the LAR maps the
    partner that signs up. The invitation email leaves after commit."""
    _require_large_account_reseller(large_account_reseller)
    email = email.strip().lower()
    validate_email(email)
    registered = partner_registered_with(email=email)
    if registered is not None:
        raise ValidationError(
            _("%(email)s is registered in the console as %(name)s: invite the partner instead.")
            % {"email": email, "name": registered.name},
            code="registered",
        )
    with transaction.atomic():
        existing = ResellerLink.objects.filter(
            large_account_reseller=large_account_reseller, reseller__isnull=True, email__iexact=email
        ).first()
        if existing is not None:
            raise ValidationError(
                _("%(email)s was already invited on %(date)s.")
                % {"email": email, "date": when_text(timezone.localdate(existing.invited_at))},
                code="already_invited",
            )
        link = ResellerLink.objects.create(
            large_account_reseller=large_account_reseller,
            reseller=None,
            email=email,
            organisation_name=_organisation_name(large_account_reseller, organisation_name),
            status=ResellerStatus.UNMAPPED,
            invited_by=_actor_label(actor),
        )
        audit_record(
            actor=actor,
            action=AuditAction.RESELLER_INVITE_BY_EMAIL,
            target=link,
            after={**model_snapshot(link, LINK_AUDIT_FIELDS), "email_sent": send_email},
        )
        if send_email:
            enqueue_on_commit(reseller_invitation_email_send, link_id=link.pk)
    return link


@dataclass
class BatchInviteResult:
    invited: list[ResellerLink] = field(default_factory=list)
    emailed: list[ResellerLink] = field(default_factory=list)
    skipped: list[BatchRow] = field(default_factory=list)


def reseller_batch_invite(
    *, actor: Actor, large_account_reseller: Partner, rows: Iterable[tuple[str, str]], send_email: bool
) -> BatchInviteResult:
    """Invite the rows of a batch file, as (organisation name, email). The rows are judged again
    (the directory may have changed since the preview); rows that cannot be invited are skipped
    and reported, never half-done: the whole batch is one transaction."""
    _require_large_account_reseller(large_account_reseller)
    classified = batch_rows_classify(large_account_reseller=large_account_reseller, rows=rows)
    result = BatchInviteResult()
    with transaction.atomic():
        for row in classified:
            if row.result == BatchRowResult.INVITE:
                partner = Partner.objects.get(pk=row.partner_id)
                result.invited.append(
                    reseller_invite(
                        actor=actor,
                        large_account_reseller=large_account_reseller,
                        reseller=partner,
                        organisation_name=row.organisation_name,
                    )
                )
            elif row.result == BatchRowResult.NOT_REGISTERED and send_email:
                result.emailed.append(
                    reseller_invite_by_email(
                        actor=actor,
                        large_account_reseller=large_account_reseller,
                        email=row.email,
                        organisation_name=row.organisation_name,
                        send_email=True,
                    )
                )
            else:
                result.skipped.append(row)
        audit_record(
            actor=actor,
            action=AuditAction.RESELLER_BATCH_INVITE,
            target=large_account_reseller,
            after={
                "invited": len(result.invited),
                "emailed": len(result.emailed),
                "skipped": len(result.skipped),
            },
        )
    return result


def reseller_map(*, actor: Actor, link: ResellerLink, reseller: Partner) -> ResellerLink:
    """Map an unmapped reseller (an email invitation) to the partner that signed up: status Mapped."""
    large_account_reseller = link.large_account_reseller
    _check_invitable(large_account_reseller, reseller)
    with transaction.atomic():
        link = (
            ResellerLink.objects.select_for_update(of=("self",))
            .select_related("large_account_reseller")
            .get(pk=link.pk)
        )
        if link.status != ResellerStatus.UNMAPPED or link.reseller_id is not None:
            raise ValidationError(_("Only an unmapped reseller can be mapped."), code="not_unmapped")
        other = ResellerLink.objects.filter(large_account_reseller=large_account_reseller, reseller=reseller).first()
        if other is not None:
            raise ValidationError(
                _("%(name)s is already in your reseller directory (%(status)s).")
                % {"name": reseller.name, "status": other.get_status_display()},
                code="already_linked",
            )
        before = model_snapshot(link, LINK_AUDIT_FIELDS)
        link.reseller = reseller
        link.organisation_name = link.organisation_name or reseller.name
        link.status = ResellerStatus.MAPPED
        link.mapped_at = timezone.now()
        link.save(update_fields=["reseller", "organisation_name", "status", "mapped_at"])
        audit_record(
            actor=actor,
            action=AuditAction.RESELLER_MAP,
            target=link,
            before=before,
            after=model_snapshot(link, LINK_AUDIT_FIELDS),
        )
        lar_name = large_account_reseller.name
        partner_administrators_notify(
            partner=reseller,
            title=lambda: _("%(name)s added you to its reseller directory") % {"name": lar_name},
            body=lambda: _("Pools it offers you appear under Reseller directory > My providers."),
            url=reverse("resellers:my_providers"),
        )
    return link


def reseller_active_pool_count(*, link: ResellerLink) -> int:
    if link.reseller_id is None:
        return 0
    return PoolAllocation.objects.filter(
        pool__owner_id=link.large_account_reseller_id, reseller_id=link.reseller_id, status__in=HOLDING_STATUSES
    ).count()


def reseller_delete(*, actor: Actor, link: ResellerLink, confirmation: str) -> None:
    """Remove a reseller from the directory (typed Yes), refused while it holds pooled subscriptions."""
    if not confirmation_typed(confirmation):
        raise ValidationError(_("Type Yes to confirm the deletion."), code="confirmation")
    with transaction.atomic():
        link = ResellerLink.objects.select_for_update(of=("self",)).select_related("reseller").get(pk=link.pk)
        active = reseller_active_pool_count(link=link)
        if active:
            raise ValidationError(
                _(
                    "%(name)s has %(count)s active pooled subscription(s): return them or let them expire "
                    "before deleting the reseller."
                )
                % {"name": link.display_name, "count": active},
                code="active_pools",
            )
        audit_record(
            actor=actor, action=AuditAction.RESELLER_DELETE, target=link, before=model_snapshot(link, LINK_AUDIT_FIELDS)
        )
        link.delete()


def reseller_customer_visibility_set(
    *, actor: Actor, partner: Partner, link: ResellerLink, visible: bool
) -> ResellerLink:
    """ "View reseller's customers": the LAR may switch it off; only the reseller switches it (back) on.

    `partner` is the partner acting (the request's), which decides the side and the audit schema.
    """
    with transaction.atomic():
        link = (
            ResellerLink.objects.select_for_update(of=("self",))
            .select_related("large_account_reseller", "reseller")
            .get(pk=link.pk)
        )
        if partner.pk == link.reseller_id:
            side = "reseller"
        elif partner.pk == link.large_account_reseller_id:
            side = "large_account_reseller"
            if visible:
                raise ValidationError(
                    _("Only the reseller can let you view its customers again."), code="reseller_only"
                )
        else:
            raise ValidationError(_("This reseller link is not yours."), code="not_yours")
        if link.customers_visible == visible:
            return link
        before = model_snapshot(link, ("customers_visible",))
        link.customers_visible = visible
        link.save(update_fields=["customers_visible"])
        audit_record(
            actor=actor,
            action=AuditAction.RESELLER_CUSTOMER_VISIBILITY_SET,
            target=link,
            before=before,
            after=model_snapshot(link, ("customers_visible",)),
        )
        if side == "reseller":
            reseller_name = link.reseller.name
            partner_administrators_notify(
                partner=link.large_account_reseller,
                title=(lambda: _("%(name)s lets you view its customers") % {"name": reseller_name})
                if visible
                else (lambda: _("%(name)s hid its customers' names from you") % {"name": reseller_name}),
                url=reverse("resellers:directory"),
            )
    return link


def _reseller_answer(*, actor: Actor, partner: Partner, link: ResellerLink, accept: bool) -> ResellerLink:
    with transaction.atomic():
        link = (
            ResellerLink.objects.select_for_update(of=("self",))
            .select_related("large_account_reseller", "reseller")
            .get(pk=link.pk)
        )
        if link.reseller_id != partner.pk:
            raise ValidationError(_("This invitation is not yours."), code="not_yours")
        if link.status != ResellerStatus.PENDING:
            raise ValidationError(_("This invitation was already answered."), code="answered")
        before = model_snapshot(link, LINK_AUDIT_FIELDS)
        link.status = ResellerStatus.MAPPED if accept else ResellerStatus.DECLINED
        link.responded_at = timezone.now()
        link.mapped_at = link.responded_at if accept else None
        link.save(update_fields=["status", "responded_at", "mapped_at"])
        audit_record(
            actor=actor,
            action=AuditAction.RESELLER_INVITATION_ACCEPT if accept else AuditAction.RESELLER_INVITATION_DECLINE,
            target=link,
            target_label=link.large_account_reseller.name,
            before=before,
            after=model_snapshot(link, LINK_AUDIT_FIELDS),
        )
        reseller_name = partner.name
        partner_administrators_notify(
            partner=link.large_account_reseller,
            title=(lambda: _("%(name)s accepted your reseller invitation") % {"name": reseller_name})
            if accept
            else (lambda: _("%(name)s declined your reseller invitation") % {"name": reseller_name}),
            url=reverse("resellers:directory"),
        )
    return link


def reseller_invitation_accept(*, actor: Actor, partner: Partner, link: ResellerLink) -> ResellerLink:
    return _reseller_answer(actor=actor, partner=partner, link=link, accept=True)


def reseller_invitation_decline(*, actor: Actor, partner: Partner, link: ResellerLink) -> ResellerLink:
    return _reseller_answer(actor=actor, partner=partner, link=link, accept=False)


def reseller_invitation_signed_up(*, actor: Actor, link: ResellerLink, reseller: Partner) -> ResellerLink | None:
    """The partner that signed up from an email invitation's link accepts it: the link is mapped to
    it. None when the invitation no longer waits (the LAR deleted or mapped it meanwhile).

    Recorded in the reseller's trail (the acceptance is its act) and notified to the LAR."""
    with transaction.atomic():
        waiting = (
            ResellerLink.objects.select_for_update(of=("self",))
            .select_related("large_account_reseller")
            .filter(pk=link.pk, reseller__isnull=True, status=ResellerStatus.UNMAPPED)
            .first()
        )
        if waiting is None:
            return None
        link = waiting
        large_account_reseller = link.large_account_reseller
        if ResellerLink.objects.filter(large_account_reseller=large_account_reseller, reseller=reseller).exists():
            return None
        before = model_snapshot(link, LINK_AUDIT_FIELDS)
        link.reseller = reseller
        link.organisation_name = link.organisation_name or reseller.name
        link.status = ResellerStatus.MAPPED
        link.responded_at = link.mapped_at = timezone.now()
        link.save(update_fields=["reseller", "organisation_name", "status", "responded_at", "mapped_at"])
        with schema_context(reseller.schema_name):
            audit_record(
                actor=actor,
                action=AuditAction.RESELLER_INVITATION_SIGN_UP,
                target=link,
                target_label=large_account_reseller.name,
                before=before,
                after=model_snapshot(link, LINK_AUDIT_FIELDS),
            )
        reseller_name = reseller.name
        partner_administrators_notify(
            partner=large_account_reseller,
            title=lambda: _("%(name)s signed up and joined your reseller directory") % {"name": reseller_name},
            url=reverse("resellers:directory"),
        )
    return link
