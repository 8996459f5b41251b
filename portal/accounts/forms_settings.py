"""Forms of the Settings screens: invitations, roles, customer groups."""

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerGroup
from customers.selectors import customers_visible_to
from portal.accounts.choices import AccessLevel, PermissionModule, UserKind
from portal.accounts.models import Role
from portal.accounts.selectors import roles_assignable
from portal.core.names import NameFormMixin

User = get_user_model()
CHECK = {"class": "form-check-input"}


class CustomerChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.SelectMultiple(attrs={"size": 8})


class UserInviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    kind = forms.ChoiceField(
        label=_("Kind"), choices=UserKind.choices, initial=UserKind.PARTNER, widget=forms.RadioSelect(attrs=CHECK)
    )
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.none())
    customers = CustomerChoiceField(
        label=_("Customers"),
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("For a customer tenant admin: the customers they manage."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = Role.objects.all()
        self.fields["customers"].queryset = customers_visible_to(user=actor)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == UserKind.CUSTOMER_ADMIN:
            role = cleaned.get("role")
            if role is not None and role.is_builtin:
                self.add_error("role", _("A customer tenant admin cannot be an administrator; choose a custom role."))
            if not cleaned.get("customers"):
                self.add_error("customers", _("Choose at least one customer this admin manages."))
        return cleaned


class UserRoleAddForm(forms.Form):
    role = forms.ModelChoiceField(label=_("Role"), queryset=Role.objects.none())

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = roles_assignable(kind=user.kind).exclude(users=user)


class UserCustomersForm(forms.Form):
    customers = CustomerChoiceField(label=_("Customers"), queryset=Customer.objects.none())

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = customers_visible_to(user=actor)


class RoleScope:
    ALL = "all"
    GROUPS = "groups"
    choices = ((ALL, _("All customers")), (GROUPS, _("Only the customers in these customer groups")))


class RoleForm(NameFormMixin, forms.Form):
    """Name, a level per module (the matrix of radio buttons) and the customers the role covers."""

    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    scope = forms.ChoiceField(
        label=_("Customers covered"), choices=RoleScope.choices, widget=forms.RadioSelect(attrs=CHECK)
    )
    customer_groups = forms.ModelMultipleChoiceField(
        label=_("Customer groups"),
        queryset=CustomerGroup.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=CHECK),
    )

    def __init__(self, *args, role: Role | None = None, **kwargs):
        if role is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": role.name,
                "description": role.description,
                "scope": RoleScope.ALL if role.all_customers or role.is_builtin else RoleScope.GROUPS,
                "customer_groups": list(role.customer_groups.all()),
                **{f"permission_{module}": role.level_for(module) for module in PermissionModule.values},
            }
        kwargs.setdefault("initial", {}).setdefault("scope", RoleScope.GROUPS)
        super().__init__(*args, **kwargs)
        for module, label in PermissionModule.choices:
            self.fields[f"permission_{module}"] = forms.TypedChoiceField(
                label=label,
                choices=AccessLevel.choices,
                coerce=int,
                initial=self.initial.get(f"permission_{module}", AccessLevel.NONE),
                widget=forms.RadioSelect,
            )

    def permission_rows(self) -> list[tuple[str, forms.BoundField]]:
        """(module label, bound radio field) for the matrix; columns are AccessLevel.choices."""
        return [(label, self[f"permission_{module}"]) for module, label in PermissionModule.choices]

    @staticmethod
    def levels():
        return AccessLevel.choices

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == RoleScope.GROUPS and not cleaned.get("customer_groups"):
            customer_modules = (PermissionModule.CUSTOMERS, PermissionModule.SUBSCRIPTIONS)
            if any(cleaned.get(f"permission_{module}") for module in customer_modules):
                self.add_error(
                    "customer_groups",
                    _("Choose the customer groups this role covers, or cover all customers."),
                )
        return cleaned

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        all_customers = data["scope"] == RoleScope.ALL
        return {
            "name": data["name"],
            "description": data["description"],
            "permissions": {module: data[f"permission_{module}"] for module in PermissionModule.values},
            "all_customers": all_customers,
            "customer_groups": [] if all_customers else list(data["customer_groups"]),
        }


class CustomerGroupForm(NameFormMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    customers = CustomerChoiceField(label=_("Customers"), queryset=Customer.objects.none(), required=False)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customers"].queryset = customers_visible_to(user=actor)
