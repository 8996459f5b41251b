from django.db import models
from django.utils.translation import gettext_lazy as _


class FeedbackCategory(models.TextChoices):
    IDEA = "idea", _("Idea or request")
    PROBLEM = "problem", _("Problem")
    QUESTION = "question", _("Question")
    PRAISE = "praise", _("Praise")


class FeedbackStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
