"""Look-alike names: each one from the attacker's probe is refused, or reported as a duplicate of the
real "Contoso Ltd", for every kind of name people recognise an organisation by.

Services are called directly (commands and imports go through them) and the forms are posted (the
error shows on the field). Every test also checks what the database holds: only the real name.
"""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from customers.models import Customer, CustomerGroup
from customers.services import CustomerActionRefused, customer_create, customer_update
from portal.accounts.models import Role
from portal.accounts.services import role_create
from portal.accounts.services_customer_groups import customer_group_create
from portal.core.names import name_clean, name_collision, name_skeleton
from portal.partners.models import Partner
from portal.partners.services import partner_create
from resellers.models import ResellerLink
from resellers.services import reseller_invite_by_email

REAL = "Contoso Ltd"
LOOK_ALIKES = {
    "zero-width space": "Con\u200btoso Ltd",
    "zero-width joiner": "Contoso\u200d Ltd",
    "zero-width non-joiner": "C\u200contoso Ltd",
    "word joiner": "Contoso\u2060 Ltd",
    "byte order mark": "\ufeffContoso Ltd",
    "soft hyphen": "Con\u00adtoso Ltd",
    "cyrillic": "\u0421\u043entoso Ltd",  # Cyrillic Es and o
    "greek omicron": "C\u03bfntoso Ltd",
    "fullwidth": "\uff23\uff4f\uff4e\uff54\uff4f\uff53\uff4f \uff2c\uff54\uff44",
    "right-to-left override": "\u202eContoso Ltd",
    "left-to-right embedding": "\u202aContoso Ltd\u202c",
    "first strong isolate": "Contoso Ltd\u2068",
    "bell": "Contoso\x07 Ltd",
    "escape": "\x1b[31mContoso Ltd",
    "upper case": "CONTOSO LTD",
    "extra spaces": "  Contoso   Ltd ",
}
EXPLAINED = ("Contoso Ltd", "invisible character", "control character", "text direction")


def _explained(error: Exception) -> str:
    text = " ".join(getattr(error, "messages", None) or [str(error)])
    assert any(reason in text for reason in EXPLAINED), text
    return text


def _page(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&quot;", '"')


# -- the validator itself ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LOOK_ALIKES)
def test_each_look_alike_is_refused_or_collides_with_the_real_name(kind):
    try:
        cleaned = name_clean(LOOK_ALIKES[kind])
    except ValidationError as error:
        _explained(error)
    else:
        assert name_collision(cleaned, ["Fabrikam", REAL]) == REAL


def test_fullwidth_is_stored_as_plain_letters_and_other_scripts_stay_welcome():
    assert name_clean("\uff26\uff41\uff42\uff52\uff49\uff4b\uff41\uff4d") == "Fabrikam"
    assert name_clean("Müller & Söhne GmbH") == "Müller & Söhne GmbH"
    assert name_clean("株式会社コントソ") == "株式会社コントソ"
    assert name_clean("ООО Ромашка") == "ООО Ромашка"  # all Cyrillic: a name, not a disguise
    assert name_collision("Contoso Group", [REAL]) is None
    assert name_skeleton("Соntoso Ltd") == name_skeleton("contoso ltd")


def test_the_error_says_which_character():
    with pytest.raises(ValidationError, match="ZERO WIDTH SPACE"):
        name_clean("Con\u200btoso")
    with pytest.raises(ValidationError, match="U\\+202E"):
        name_clean("\u202eContoso")
    with pytest.raises(ValidationError, match="U\\+0007"):
        name_clean("Contoso\x07")


# -- customers --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LOOK_ALIKES)
def test_a_customer_look_alike_is_refused_by_the_service(in_alpha, kind):
    customer_create(actor=None, fields={"name": REAL, "country": "DE"})

    with pytest.raises((ValidationError, CustomerActionRefused)) as refused:
        customer_create(actor=None, fields={"name": LOOK_ALIKES[kind], "country": "DE"})

    _explained(refused.value)
    assert list(Customer.objects.values_list("name", flat=True)) == [REAL]


def test_renaming_a_customer_into_a_look_alike_is_refused(in_alpha):
    customer_create(actor=None, fields={"name": REAL, "country": "DE"})
    other = customer_create(actor=None, fields={"name": "Fabrikam", "country": "DE"})

    with pytest.raises(CustomerActionRefused, match="looks the same as “Contoso Ltd”"):
        customer_update(actor=None, customer=other, fields={"name": "\u0421\u043entoso Ltd"})

    assert sorted(Customer.objects.values_list("name", flat=True)) == [REAL, "Fabrikam"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("\u0421\u043entoso Ltd", "This name looks the same as “Contoso Ltd”, which already exists."),
        ("Con\u200btoso Ltd", "The name contains an invisible character (ZERO WIDTH SPACE): remove it."),
        ("\u202eContoso Ltd", "The name contains a text direction control character (U+202E): remove it."),
    ],
)
def test_the_customer_form_shows_the_refusal_on_the_name(partner_alpha, alpha_admin_client, name, message):
    with schema_context(partner_alpha.schema_name):
        customer_create(actor=None, fields={"name": REAL, "country": "DE"})
    data = {
        "name": name,
        "status": "active",
        "industry": "healthcare",
        "contact_name": "Jo",
        "contact_email": "jo@contoso.example",
        "contact_phone": "+49 30 1234567",
        "address_line1": "Street 1",
        "city": "Berlin",
        "postal_code": "12345",
        "country": "DE",
        "preferred_language": "en",
        "preferred_currency": "EUR",
    }

    response = alpha_admin_client.post("/customers/new/", data)

    assert response.status_code == 200
    assert message in response.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert list(Customer.objects.values_list("name", flat=True)) == [REAL]


# -- customer groups and roles ----------------------------------------------------------------------------------------


def _administrator():
    return get_user_model().objects.get(username="admin")


@pytest.mark.parametrize("kind", LOOK_ALIKES)
def test_a_customer_group_look_alike_is_refused(in_alpha, kind):
    customer_group_create(actor=_administrator(), name=REAL)

    with pytest.raises(ValidationError) as refused:
        customer_group_create(actor=_administrator(), name=LOOK_ALIKES[kind])

    _explained(refused.value)
    assert "name" in refused.value.message_dict
    assert list(CustomerGroup.objects.values_list("name", flat=True)) == [REAL]


@pytest.mark.parametrize("kind", LOOK_ALIKES)
def test_a_role_look_alike_is_refused(in_alpha, kind):
    role_create(actor=_administrator(), name=REAL, permissions={}, all_customers=True)

    with pytest.raises(ValidationError) as refused:
        role_create(actor=_administrator(), name=LOOK_ALIKES[kind], permissions={}, all_customers=True)

    _explained(refused.value)
    assert Role.objects.filter(name=REAL).count() == 1
    assert not Role.objects.exclude(name=REAL).filter(name__icontains="toso").exists()


def test_a_look_alike_of_the_built_in_administrators_role_is_refused(in_alpha):
    with pytest.raises(ValidationError, match="looks the same as “Administrators”"):
        role_create(actor=_administrator(), name="Adm\u0456n\u0456strators", permissions={}, all_customers=True)


def test_the_settings_forms_show_the_refusal_on_the_name(partner_alpha, alpha_admin_client):
    with schema_context(partner_alpha.schema_name):
        customer_group_create(actor=_administrator(), name=REAL)

    group = alpha_admin_client.post("/settings/customer-groups/new/", {"name": "\u0421\u043entoso Ltd"})
    role = alpha_admin_client.post("/settings/roles/new/", {"name": "Desk\x07", "scope": "all"})

    assert "This name looks the same as “Contoso Ltd”, which already exists." in group.content.decode()
    assert "The name contains a control character (U+0007): remove it." in role.content.decode()
    with schema_context(partner_alpha.schema_name):
        assert list(CustomerGroup.objects.values_list("name", flat=True)) == [REAL]
        assert not Role.objects.filter(name__startswith="Desk").exists()


@pytest.fixture
def in_beta(partner_beta):
    with schema_context(partner_beta.schema_name):
        yield partner_beta


# -- resellers and partners -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LOOK_ALIKES)
def test_a_reseller_organisation_name_look_alike_is_refused(in_beta, kind):
    partner_beta = in_beta
    reseller_invite_by_email(
        actor=None, large_account_reseller=partner_beta, email="real@contoso.example", organisation_name=REAL,
        send_email=False,
    )  # fmt: skip

    with pytest.raises(ValidationError) as refused:
        reseller_invite_by_email(
            actor=None, large_account_reseller=partner_beta, email="fake@contoso.example",
            organisation_name=LOOK_ALIKES[kind], send_email=False,
        )  # fmt: skip

    _explained(refused.value)
    assert list(ResellerLink.objects.values_list("organisation_name", flat=True)) == [REAL]


def test_the_batch_preview_reports_look_alikes_with_their_reason(partner_beta, beta_admin_client):
    with schema_context(partner_beta.schema_name):
        reseller_invite_by_email(
            actor=None, large_account_reseller=partner_beta, email="real@contoso.example", organisation_name=REAL,
            send_email=False,
        )  # fmt: skip
    rows = [
        ("\u0421\u043entoso Ltd", "cyrillic@contoso.example"),
        ("Con\u200btoso Ltd", "zero@contoso.example"),
        ("Contoso\x07 Ltd", "bell@contoso.example"),
        ("\u202eContoso Ltd", "rtl@contoso.example"),
        ("Fabrikam", "owner@fabrikam.example"),
        ("\uff26\uff41\uff42\uff52\uff49\uff4b\uff41\uff4d", "fullwidth@fabrikam.example"),
    ]
    content = "Organisation name,Email\n" + "".join(f"{name},{email}\n" for name, email in rows)
    upload = SimpleUploadedFile("resellers.csv", io.BytesIO(content.encode()).getvalue())

    page = _page(beta_admin_client.post("/resellers/invite/batch/", {"file": upload}))

    assert 'data-line="2" data-result="duplicate"' in page
    assert "Organisation name: This name looks the same as “Contoso Ltd”, which already exists." in page
    for line in (3, 4, 5):
        assert f'data-line="{line}" data-result="invalid"' in page
    assert 'data-line="6" data-result="not_registered"' in page
    assert 'data-line="7" data-result="duplicate"' in page  # fullwidth Fabrikam is Fabrikam, two rows up


def test_a_partner_look_alike_is_refused_before_anything_is_provisioned(partner_alpha):
    look_alike = partner_alpha.name.replace("A", "\u0410", 1).replace("a", "\u0430", 1)
    assert look_alike != partner_alpha.name

    with pytest.raises(ValidationError) as refused:
        partner_create(name=look_alike, slug="gamma", admin_email="admin@gamma.example")

    assert partner_alpha.name in " ".join(refused.value.messages)
    assert not Partner.objects.filter(slug="gamma").exists()
    with pytest.raises(ValidationError, match="control character"):
        partner_create(name="Gamma\x07", slug="gamma", admin_email="admin@gamma.example")


def test_renaming_a_partner_in_the_platform_admin_into_a_look_alike_is_refused(partner_alpha, partner_beta):
    from django.forms.models import model_to_dict

    from portal.partners.admin import PartnerAdminForm

    data = {**model_to_dict(partner_beta), "name": partner_alpha.name.replace("A", "\u0410", 1)}
    form = PartnerAdminForm(data=data, instance=partner_beta)

    assert not form.is_valid()
    assert partner_alpha.name in " ".join(form.errors["name"])
    bell = PartnerAdminForm(data={**model_to_dict(partner_beta), "name": "Beta\x07"}, instance=partner_beta)
    assert not bell.is_valid() and "control character" in " ".join(bell.errors["name"])
    partner_beta.refresh_from_db()
    assert "\u0410" not in partner_beta.name


def test_a_renamed_partner_is_checked_under_its_new_name(partner_alpha):
    old_name = partner_alpha.name
    partner_alpha.name = "Zeta Systems"
    partner_alpha.save(update_fields=["name"])

    # the stored skeleton follows the name: a look-alike of the new name is refused, the old name is free
    with pytest.raises(ValidationError) as refused:
        partner_create(name="Z\u0435ta Systems", slug="gamma", admin_email="admin@gamma.example")
    assert "Zeta Systems" in " ".join(refused.value.messages)
    created = partner_create(name=old_name, slug="gamma", admin_email="admin@gamma.example").partner
    assert Partner.objects.get(pk=created.pk).name == old_name
