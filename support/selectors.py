"""Reads of feedback and of the troubleshooting profile."""

from django.db.models import Q, QuerySet

from support.models import Feedback, TroubleshootingAddress


def feedback_list(*, status: str = "", category: str = "", q: str = "") -> QuerySet[Feedback]:
    """Every feedback of the partner (Settings > Feedback management), newest first, filtered."""
    rows = Feedback.objects.select_related("customer")
    if status:
        rows = rows.filter(status=status)
    if category:
        rows = rows.filter(category=category)
    if q:
        rows = rows.filter(
            Q(subject__icontains=q)
            | Q(message__icontains=q)
            | Q(author_label__icontains=q)
            | Q(customer__name__icontains=q)
        )
    return rows


def feedback_get(*, pk: int) -> Feedback | None:
    return Feedback.objects.select_related("customer").prefetch_related("replies").filter(pk=pk).first()


def feedback_of(*, user) -> QuerySet[Feedback]:
    """What this user sent (Help > Submit feedback lists it with its status)."""
    return Feedback.objects.filter(author=user).prefetch_related("replies")


def troubleshooting_addresses() -> list[str]:
    """The addresses copied on support emails about a customer."""
    return list(TroubleshootingAddress.objects.values_list("email", flat=True))
