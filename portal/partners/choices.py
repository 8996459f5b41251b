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


class DataCentre(models.TextChoices):
    """Where a partner's data is kept. A partner is assigned the data centre its country/region is
    nearest to (`PARTNER_DATA_CENTRE_BY_COUNTRY` in the settings) when it signs up."""

    EU_WEST = "eu-west", _("West Europe (Amsterdam)")
    UK_SOUTH = "uk-south", _("United Kingdom (London)")
    CH_NORTH = "ch-north", _("Switzerland (Zurich)")
    US_EAST = "us-east", _("North America (Virginia)")
    AP_SOUTHEAST = "ap-southeast", _("Asia Pacific (Singapore)")
    AU_EAST = "au-east", _("Australia (Sydney)")
    JP_EAST = "jp-east", _("Japan (Tokyo)")


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
