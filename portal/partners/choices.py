from django.db import models
from django.utils.translation import gettext_lazy as _


class PartnerStatus(models.TextChoices):
    PROVISIONING = "provisioning", _("Provisioning")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")


class Region(models.TextChoices):
    EUROPE = "eu", _("Europe")
    NORTH_AMERICA = "na", _("North America")
    ASIA_PACIFIC = "apac", _("Asia Pacific")
    JAPAN = "jp", _("Japan")


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    GERMAN = "de", _("German")
    FRENCH = "fr", _("French")
    JAPANESE = "ja", _("Japanese")


class Currency(models.TextChoices):
    EUR = "EUR", "EUR"
    USD = "USD", "USD"
    GBP = "GBP", "GBP"
    CHF = "CHF", "CHF"
    JPY = "JPY", "JPY"
