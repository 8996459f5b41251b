from django.db import models
from django.utils.translation import gettext_lazy as _


class SignInMethod(models.TextChoices):
    PASSWORD = "password", _("Username and password")
    MICROSOFT = "microsoft", _("Microsoft")
