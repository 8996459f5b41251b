"""Feedback people send from Help > Submit feedback, and the troubleshooting profile (partner schema)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from support.choices import FeedbackCategory, FeedbackStatus


class Feedback(models.Model):
    """What a partner user or a customer tenant admin told the partner. The author's label and
    address are kept, so the feedback still says who sent it after the user is removed."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    author_label = models.CharField(_("from"), max_length=254)
    author_email = models.EmailField(_("email"), blank=True)
    author_kind = models.CharField(_("kind of user"), max_length=20)
    # A customer tenant admin's feedback is about their customer.
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.SET_NULL, null=True, blank=True
    )
    category = models.CharField(_("category"), max_length=16, choices=FeedbackCategory.choices)
    subject = models.CharField(_("subject"), max_length=200)
    message = models.TextField(_("message"))
    page = models.CharField(_("page"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FeedbackStatus.choices, default=FeedbackStatus.NEW, db_index=True
    )
    created = models.DateTimeField(_("submitted"), auto_now_add=True, db_index=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")

    def __str__(self) -> str:
        return self.subject


class FeedbackReply(models.Model):
    """A reply the partner emailed to the feedback's author."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="replies")
    author_label = models.CharField(_("from"), max_length=254)
    message = models.TextField(_("message"))
    created = models.DateTimeField(_("sent"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return f"{self.author_label}: {self.message[:50]}"


class TroubleshootingAddress(models.Model):
    """An address copied on every support email the console sends about a customer (order emails,
    feedback replies): the troubleshooting profile."""

    email = models.EmailField(_("email"), unique=True)
    added_by = models.CharField(_("added by"), max_length=254, blank=True)
    created = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["email"]
        verbose_name = _("troubleshooting address")
        verbose_name_plural = _("troubleshooting profile")

    def __str__(self) -> str:
        return self.email
