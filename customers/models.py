"""Customers of a partner and their Microsoft 365 tenants (partner schema)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from customers.choices import ConsentState, CustomerRegistrationStatus, CustomerStatus, Industry
from portal.partners.choices import Currency, Language


class CustomerGroup(models.Model):
    """A named set of customers; roles cover customer groups to scope what their users see."""

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    # The roles that cover this group (`role.customer_groups` from the other side).
    roles = models.ManyToManyField("accounts.Role", verbose_name=_("roles"), blank=True, related_name="customer_groups")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer group")
        verbose_name_plural = _("customer groups")
        constraints = [models.UniqueConstraint(Lower("name"), name="customers_group_name_unique_ci")]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """An end-customer organisation. Its eligibility flags decide which offers it may buy."""

    name = models.CharField(_("organisation name"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=CustomerStatus.choices, default=CustomerStatus.ACTIVE)
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    state = models.CharField(_("state or region"), max_length=100, blank=True)
    country = CountryField(_("country"), blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, default=Industry.GENERAL)
    is_academic = models.BooleanField(_("academic"), default=False)
    is_government = models.BooleanField(_("government"), default=False)
    is_non_profit = models.BooleanField(_("non-profit"), default=False)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=Language.choices, default=Language.ENGLISH
    )
    preferred_currency = models.CharField(
        _("preferred currency"), max_length=3, choices=Currency.choices, default=Currency.EUR
    )
    groups = models.ManyToManyField(
        CustomerGroup, verbose_name=_("customer groups"), blank=True, related_name="customers"
    )
    # Customer tenant admins bound to this customer (`user.customers` from the other side).
    admin_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("customer tenant admins"), blank=True, related_name="customers"
    )
    # The partner's own organisation, listed among its customers so it can buy for itself (at most one).
    is_own_organisation = models.BooleanField(_("own organisation"), default=False, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [models.Index(Lower("name"), name="customers_customer_name_ci")]
        constraints = [
            models.UniqueConstraint(
                fields=["is_own_organisation"],
                condition=models.Q(is_own_organisation=True),
                name="customers_one_own_organisation",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address_is_complete(self) -> bool:
        """A marketplace needs street, city, postal code and country to create a tenant."""
        return bool(self.address_line1 and self.city and self.postal_code and self.country)


class CustomerTenant(models.Model):
    """A customer's Microsoft 365 / Entra ID tenant. One tenant belongs to exactly one customer."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="tenants")
    tenant_id = models.UUIDField(_("tenant ID"), unique=True)
    # Blank when the tenant was added by its ID: Microsoft's discovery names no domain for an ID.
    primary_domain = models.CharField(_("primary domain"), max_length=253, blank=True)
    display_name = models.CharField(_("display name"), max_length=200, blank=True)
    consent_state = models.CharField(
        _("consent"), max_length=20, choices=ConsentState.choices, default=ConsentState.NOT_CONSENTED
    )
    consented_at = models.DateTimeField(_("consented at"), null=True, blank=True)
    consented_by = models.CharField(_("consented by"), max_length=254, blank=True)
    consent_requested_at = models.DateTimeField(_("consent requested at"), null=True, blank=True)
    # Microsoft's words when consent was declined or failed, shown next to the state.
    consent_message = models.TextField(_("consent message"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["primary_domain", "tenant_id"]
        verbose_name = _("customer tenant")
        verbose_name_plural = _("customer tenants")
        constraints = [
            models.UniqueConstraint(
                Lower("primary_domain"),
                condition=~models.Q(primary_domain=""),
                name="customers_tenant_domain_unique_ci",
            )
        ]

    def __str__(self) -> str:
        return self.primary_domain or str(self.tenant_id)

    @property
    def is_consented(self) -> bool:
        return self.consent_state == ConsentState.CONSENTED


class CustomerRegistrationSettings(models.Model):
    """Whether customers may register themselves on the partner's host, and how they are let in.

    Off by default: a partner opens its door on purpose. One row per partner schema. A registered
    customer's administrator gets the role chosen here (a customer tenant admin's role, capped by the
    customer admin ceiling like any other)."""

    singleton = models.PositiveSmallIntegerField(default=1, unique=True, editable=False)
    allow_registration = models.BooleanField(
        _("customers may register"),
        default=False,
        help_text=_("A sign-up form on your console's address lets organisations register as your customers."),
    )
    auto_approve = models.BooleanField(
        _("approve registrations automatically"),
        default=False,
        help_text=_("A registration whose email address is verified becomes a customer at once, without review."),
    )
    role = models.ForeignKey(
        "accounts.Role",
        verbose_name=_("role of the customer's administrator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("customer registration settings")
        verbose_name_plural = _("customer registration settings")
        constraints = [models.CheckConstraint(condition=models.Q(singleton=1), name="customers_registration_one_row")]

    def __str__(self) -> str:
        return str(_("Customer registration settings"))


class CustomerRegistration(models.Model):
    """An organisation that registered itself as a customer on the partner's host. The address is
    proven by an emailed signed link; then the partner approves (or the settings approve), which
    creates the customer and its administrator with the password chosen here (kept only as its hash)."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    company_name = models.CharField(_("organisation name"), max_length=200)
    first_name = models.CharField(_("first name"), max_length=150)
    last_name = models.CharField(_("last name"), max_length=150)
    email = models.EmailField(_("email address"))
    phone = models.CharField(_("phone number"), max_length=40, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    country = CountryField(_("country"))
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True)
    password_hash = models.CharField(max_length=256, editable=False)
    language = models.CharField(_("language"), max_length=8, default="en")
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=CustomerRegistrationStatus.choices,
        default=CustomerRegistrationStatus.AWAITING_VERIFICATION,
    )
    created = models.DateTimeField(_("registered"), auto_now_add=True)
    email_verified_at = models.DateTimeField(_("email verified"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created"]
        verbose_name = _("customer registration")
        verbose_name_plural = _("customer registrations")
        indexes = [models.Index(Lower("email"), name="customers_registration_email")]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.email})"
