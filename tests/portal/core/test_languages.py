"""Four languages as users meet them: the switcher, the browser's language, My profile's language and time
zone, the partner's defaults, and emails, notifications and money in each reader's own language."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_tenants.utils import schema_context

from catalog.pricing import money_format
from portal.accounts.choices import AccessLevel, PermissionModule
from portal.accounts.models import Role
from portal.audit.models import AuditEvent, Notification
from portal.audit.services import audit_record, notification_create
from portal.partners.models import Partner
from tests.factories import UserFactory
from tests.support import PASSWORD, host_of, signed_in_client

User = get_user_model()


def translated(text: str, language: str) -> str:
    with translation.override(language):
        result = gettext(text)
    assert result != text, f"{text!r} has no {language} translation"
    return result


@pytest.fixture
def reader(partner_alpha):
    """A signed-in administrator of alpha of their own, so changing their language touches no one else."""
    with schema_context(partner_alpha.schema_name):
        user = UserFactory(username="reader", email="reader@alpha.example", is_superuser=True)
    return user, signed_in_client(partner_alpha, "reader", PASSWORD)


# --- money and dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "euros", "yen"),
    [
        ("en", "€1,234.56", "¥1,500"),
        ("de", "1.234,56\xa0€", "1.500\xa0¥"),
        ("fr", "1\u202f234,56\xa0€", "1\u202f500\xa0JPY"),
        ("ja", "€1,234.56", "￥1,500"),
    ],
)
def test_money_is_written_as_each_language_writes_it_and_yen_has_no_decimals(language, euros, yen):
    assert money_format(Decimal("1234.555"), "EUR", language=language) == euros  # rounded half up first
    assert money_format(Decimal("1499.5"), "JPY", language=language) == yen


@pytest.mark.parametrize(
    ("language", "long", "short"),
    [
        ("en", "22 Nov 2026", "2026-11-22"),
        ("de", "22. November 2026", "22.11.2026"),
        ("ja", "2026年11月22日", "2026/11/22"),
    ],
)
def test_templates_write_dates_in_the_active_language(language, long, short):
    template = Template('{{ day|date:"DATE_FORMAT" }} | {{ day|date:"SHORT_DATE_FORMAT" }}')
    with translation.override(language):
        assert template.render(Context({"day": datetime.date(2026, 11, 22)})) == f"{long} | {short}"


# --- choosing a language -----------------------------------------------------------------------------


def test_the_public_pages_follow_the_browsers_language(partner_alpha):
    client = Client(HTTP_HOST=host_of(partner_alpha), HTTP_ACCEPT_LANGUAGE="fr-CH, fr;q=0.9, en;q=0.5")
    page = client.get("/accounts/sign-in/").content.decode()
    assert '<html lang="fr">' in page
    assert translated("Sign in", "fr") in page
    catalog = client.get("/catalog/public/").content.decode()
    assert '<html lang="fr">' in catalog and 'data-testid="language-switcher"' in catalog


def test_a_visitor_switches_the_language_of_the_public_pages(partner_alpha):
    client = Client(HTTP_HOST=host_of(partner_alpha), HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/language/", {"language": "ja", "next": "/accounts/sign-in/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/sign-in/"
    assert response.cookies["django_language"].value == "ja"
    page = client.get("/accounts/sign-in/").content.decode()
    assert '<html lang="ja">' in page and translated("Sign in", "ja") in page


def test_the_switcher_refuses_a_foreign_target_and_an_unknown_language(partner_alpha):
    client = Client(HTTP_HOST=host_of(partner_alpha))
    response = client.post("/language/", {"language": "de", "next": "https://evil.example/"})
    assert response["Location"] == "/"
    stranger = Client(HTTP_HOST=host_of(partner_alpha), HTTP_ACCEPT_LANGUAGE="en")
    response = stranger.post("/language/", {"language": "xx", "next": "/accounts/sign-in/"}, follow=True)
    assert "That language is not available." in response.content.decode()
    assert "django_language" not in stranger.cookies
    assert client.get("/language/").status_code == 405


def test_a_signed_in_user_switches_from_the_user_menu_and_it_sticks_to_their_profile(partner_alpha, reader):
    user, client = reader
    home = client.get("/").content.decode()
    assert 'data-testid="language-de"' in home  # the user menu offers every language in its own name
    assert "Deutsch" in home and "日本語" in home and "Français" in home

    response = client.post("/language/", {"language": "de", "next": "/customers/"})

    assert response["Location"] == "/customers/"
    with schema_context(partner_alpha.schema_name):
        user.refresh_from_db()
    assert user.language == "de"
    fresh = signed_in_client(partner_alpha, "reader", PASSWORD)  # another browser, no cookie: the profile decides
    page = fresh.get("/customers/").content.decode()
    assert '<html lang="de">' in page and translated("Customers", "de") in page


def test_my_profile_sets_the_time_zone_and_times_are_shown_in_it(partner_alpha, reader):
    user, client = reader
    with schema_context(partner_alpha.schema_name):
        event = audit_record(actor=user, action="probe.time_zone", message="probe")
        AuditEvent.objects.filter(pk=event.pk).update(
            created=datetime.datetime(2026, 1, 5, 23, 30, tzinfo=datetime.UTC)
        )
    response = client.post(
        "/accounts/profile/",
        {"first_name": "Rea", "last_name": "", "organisation_name": "", "language": "en", "time_zone": "Asia/Tokyo"},
    )
    assert response.status_code == 302
    log = client.get("/settings/audit-logs/?action=probe.time_zone").content.decode()
    assert "2026-01-06" in log and "08:30:00" in log  # 23:30 UTC is 08:30 the next day in Tokyo

    refused = client.post(
        "/accounts/profile/",
        {"first_name": "Rea", "last_name": "", "organisation_name": "", "language": "en", "time_zone": "Mars/Olympus"},
    )
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()


# --- the partner's defaults --------------------------------------------------------------------------


def test_the_partner_defaults_are_set_in_settings_and_new_users_start_with_them(
    partner_alpha, alpha_admin_client, django_capture_on_commit_callbacks, mailoutbox
):
    response = alpha_admin_client.post(
        "/settings/language-and-region/", {"default_language": "fr", "default_time_zone": "Europe/Paris"}
    )
    assert response.status_code == 302
    partner = Partner.objects.get(pk=partner_alpha.pk)
    assert (partner.default_language, partner.default_time_zone) == ("fr", "Europe/Paris")
    with schema_context(partner_alpha.schema_name):
        event = AuditEvent.objects.get(action="partner.locale_update")
        assert event.after == {"default_language": "fr", "default_time_zone": "Europe/Paris"}
        role_id = User.objects.get(username="admin").roles.get().pk

    with django_capture_on_commit_callbacks(execute=True):
        alpha_admin_client.post(
            "/settings/users/invite/", {"email": "nouveau@alpha.example", "kind": "partner", "role": role_id}
        )

    with schema_context(partner_alpha.schema_name):
        invited = User.objects.get(email="nouveau@alpha.example")
    assert (invited.language, invited.time_zone) == ("fr", "Europe/Paris")
    (message,) = mailoutbox
    assert translated("To choose your password and sign in, open this link:", "fr") in message.body
    assert re.search(r"\((CET|CEST)\)", message.body), message.body  # the expiry in the invited person's time zone


def test_the_partner_defaults_are_validated_and_only_a_settings_manager_changes_them(partner_alpha, alpha_admin_client):
    response = alpha_admin_client.post(
        "/settings/language-and-region/", {"default_language": "xx", "default_time_zone": "Nowhere/Land"}
    )
    assert response.status_code == 200
    assert response.content.decode().count("Select a valid choice") == 2
    assert Partner.objects.get(pk=partner_alpha.pk).default_language == "en"

    with schema_context(partner_alpha.schema_name):
        viewer_role = Role.objects.create(
            name="Settings viewer",
            permissions={
                module: int(AccessLevel.VIEW if module == PermissionModule.SETTINGS else 0)
                for module in PermissionModule.values
            },
        )
        UserFactory(username="settings.viewer").roles.set([viewer_role])
    viewer = signed_in_client(partner_alpha, "settings.viewer", PASSWORD)
    page = viewer.get("/settings/language-and-region/").content.decode()
    assert "language-region-form" not in page and "UTC" in page
    refused = viewer.post("/settings/language-and-region/", {"default_language": "de", "default_time_zone": "UTC"})
    assert refused.status_code == 403
    assert Partner.objects.get(pk=partner_alpha.pk).default_language == "en"


# --- what is sent to people ---------------------------------------------------------------------------


def test_a_notification_reaches_each_recipient_in_their_own_language(partner_alpha):
    with schema_context(partner_alpha.schema_name):
        german = UserFactory(username="de.reader", language="de")
        japanese = UserFactory(username="ja.reader", language="ja")
        english = UserFactory(username="en.reader", language="en")
        notification_create(
            recipients=[german, japanese, english],
            title=lambda: gettext("Scheduled decrease ordered"),
            body="As typed by a person",
        )
        titles = dict(Notification.objects.values_list("recipient__username", "title"))
        bodies = set(Notification.objects.values_list("body", flat=True))
    assert titles == {
        "de.reader": translated("Scheduled decrease ordered", "de"),
        "ja.reader": translated("Scheduled decrease ordered", "ja"),
        "en.reader": "Scheduled decrease ordered",
    }
    assert bodies == {"As typed by a person"}


def test_an_order_email_is_written_in_each_recipients_language(partner_alpha):
    """Rendered for a German reader, the order email's fixed text is German and its times are theirs."""
    from portal.accounts.locale import user_locale

    with schema_context(partner_alpha.schema_name):
        reader = UserFactory(username="mail.reader", language="de", time_zone="Asia/Tokyo")
    moment = datetime.datetime(2026, 3, 1, 23, 0, tzinfo=datetime.UTC)
    with user_locale(reader):
        rendered = Template(
            '{% load i18n %}{% translate "Sign in" %} {{ moment|date:"SHORT_DATETIME_FORMAT" }}'
        ).render(Context({"moment": moment}))
        assert timezone.get_current_timezone_name() == "Asia/Tokyo"
    assert rendered == f"{translated('Sign in', 'de')} 02.03.2026 08:00"
    assert re.fullmatch(r"UTC|Etc/UTC", timezone.get_current_timezone_name())  # left as it was


def test_a_default_category_speaks_the_readers_language_until_the_partner_renames_it(partner_alpha):
    from catalog.models import Category

    with schema_context(partner_alpha.schema_name):
        default = Category.objects.create(name="Security and identity", slug="security", position=20)
        renamed = Category.objects.create(name="Sicherheit (unsere Auswahl)", slug="infrastructure", position=40)
        with translation.override("de"):
            assert default.label == translated("Security and identity", "de")
            assert str(renamed) == "Sicherheit (unsere Auswahl)"
        assert default.label == "Security and identity"


def test_a_deletion_is_confirmed_with_yes_or_the_readers_own_word():
    from portal.core.confirmation import confirmation_typed

    with translation.override("de"):
        assert confirmation_typed(" ja ") and confirmation_typed("Yes")
        assert not confirmation_typed("oui") and not confirmation_typed("")
        assert "„Ja“" in gettext("Type Yes to confirm")
    with translation.override("ja"):
        assert confirmation_typed("はい")
    assert not confirmation_typed("ja")  # in English only Yes
