from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from portal.partners.models import Domain, Partner
from portal.partners.services import ProvisioningMethod, partner_create


def run_create_partner(*arguments: str) -> str:
    out = StringIO()
    call_command("create_partner", *arguments, stdout=out)
    return out.getvalue()


def test_create_partner_provisions_schema_domain_and_administrator(db):
    output = run_create_partner(
        "--name", "Gamma Cloud", "--slug", "gamma", "--admin-email", "Owner@Gamma.example", "--large-account-reseller"
    )

    partner = Partner.objects.get(slug="gamma")
    assert partner.schema_name == "p_gamma"
    assert partner.status == "active"
    assert partner.is_large_account_reseller and not partner.is_service_provider
    assert schema_exists("p_gamma")
    assert Domain.objects.get(tenant=partner).domain == "gamma.console.test"
    assert "URL:      http://gamma.console.test/" in output
    assert "by clone" in output
    password = output.split("Password: ")[1].strip()
    with schema_context("p_gamma"):
        admin = get_user_model().objects.get(username="admin")
        assert admin.email == "owner@gamma.example"
        assert admin.check_password(password)
        # the cloned schema has every partner table, and no rows of the template
        assert get_user_model().objects.count() == 1


def test_create_partner_by_migrations_gives_the_same_tables(db):
    partner_create(name="Delta", slug="delta", admin_email="a@delta.example", method=ProvisioningMethod.MIGRATE)
    partner_create(name="Epsilon", slug="epsilon", admin_email="a@epsilon.example", method=ProvisioningMethod.CLONE)

    def tables(schema: str) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema])
            return {row[0] for row in cursor.fetchall()}

    assert tables("p_delta") == tables("p_epsilon")
    assert "accounts_user" in tables("p_delta")
    assert "partners_partner" not in tables("p_delta")


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("alpha", "A partner with the slug 'alpha' already exists."),
        ("Bad_Slug!", "The slug 'bad_slug!' is not valid"),
        ("x", "The slug 'x' is not valid"),
        ("ends-with-", "The slug 'ends-with-' is not valid"),
        ("admin", "The slug 'admin' is reserved by the platform."),
    ],
)
def test_create_partner_refuses_a_bad_slug_and_creates_nothing(db, slug, message):
    before = set(Partner.objects.values_list("slug", flat=True))

    with pytest.raises(CommandError) as error:
        run_create_partner("--name", "Anything", "--slug", slug, "--admin-email", "a@b.example")

    assert "Nothing was created." in str(error.value)
    assert message in str(error.value)
    assert set(Partner.objects.values_list("slug", flat=True)) == before


def test_create_partner_refuses_a_taken_or_invalid_domain(db):
    with pytest.raises(CommandError, match="The domain 'alpha.console.test' already belongs to a partner."):
        run_create_partner(
            "--name", "Z", "--slug", "zeta", "--admin-email", "a@b.example", "--domain", "alpha.console.test"
        )
    with pytest.raises(CommandError, match="'not a host' is not a valid host name."):
        run_create_partner("--name", "Z", "--slug", "zeta", "--admin-email", "a@b.example", "--domain", "not a host")
    assert not Partner.objects.filter(slug="zeta").exists()
    assert not schema_exists("p_zeta")


def test_create_partner_refuses_an_invalid_email(db):
    with pytest.raises(CommandError, match="Enter a valid email address."):
        run_create_partner("--name", "Z", "--slug", "zeta", "--admin-email", "not-an-email")
    assert not schema_exists("p_zeta")


def test_create_partner_with_an_extra_domain_serves_both_hosts(db):
    partner_create(name="Eta", slug="eta", admin_email="a@eta.example", extra_domain="console.eta.example")

    assert set(Domain.objects.filter(tenant__slug="eta").values_list("domain", "is_primary")) == {
        ("eta.console.test", True),
        ("console.eta.example", False),
    }


def test_a_provisioning_that_fails_half_way_leaves_no_schema_and_no_partner(db, monkeypatch):
    user_model = get_user_model()

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(user_model.objects, "create_superuser", broken)

    with pytest.raises(RuntimeError, match="the disk is full"):
        partner_create(name="Theta", slug="theta", admin_email="a@theta.example")

    assert not schema_exists("p_theta")
    assert not Partner.objects.filter(slug="theta").exists()
    assert not Domain.objects.filter(domain="theta.console.test").exists()


def test_a_stale_template_is_migrated_forward_after_cloning(db, settings):
    """If the template lacks a migration the code has, the clone is migrated, never left short."""
    with schema_context(settings.PARTNER_TEMPLATE_SCHEMA), connection.cursor() as cursor:
        # as if the code gained the sessions migration after the template was last prepared
        cursor.execute("DELETE FROM django_migrations WHERE app = 'sessions'")
        cursor.execute("DROP TABLE django_session")

    provisioned = partner_create(name="Iota", slug="iota", admin_email="a@iota.example")

    with schema_context("p_iota"), connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('p_iota.django_session') IS NOT NULL")
        assert cursor.fetchone()[0] is True
    assert provisioned.method == ProvisioningMethod.CLONE


def test_list_partners_shows_each_partner_with_its_url(db):
    out = StringIO()
    call_command("list_partners", stdout=out)

    output = out.getvalue()
    assert "alpha" in output and "http://alpha.console.test/" in output
    assert "beta" in output and "Service provider + Large account reseller" in output
    assert "2 partner(s)." in output


def test_a_template_layout_the_lean_clone_cannot_copy_falls_back_and_leaves_nothing(db, settings):
    from portal.partners.clone import clone_schema_lean

    template = settings.PARTNER_TEMPLATE_SCHEMA
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIEW {template}.bench_view AS SELECT 1 AS one")

    assert clone_schema_lean(source=template, target="p_upsilon", layout_key="a layout with a view") is False
    assert not schema_exists("p_upsilon")


def test_clones_of_one_layout_read_the_catalogue_once(db, settings):
    from django.test.utils import CaptureQueriesContext

    from portal.partners.clone import clone_schema_lean

    template = settings.PARTNER_TEMPLATE_SCHEMA
    assert clone_schema_lean(source=template, target="p_phi", layout_key="one layout") is True
    # the second clone of the layout runs its script and asks the catalogue nothing
    with CaptureQueriesContext(connection) as queries:
        assert clone_schema_lean(source=template, target="p_chi", layout_key="one layout") is True
    statements = " ".join(query["sql"] for query in queries.captured_queries)
    assert 'CREATE TABLE "p_chi"."accounts_user"' in statements
    for catalogue in ("pg_class", "pg_constraint", "pg_attribute", "information_schema"):
        assert catalogue not in statements
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE connamespace = 'p_chi'::regnamespace AND contype = 'f' "
            "AND confrelid::regclass::text NOT LIKE 'p_chi.%%'"
        )
        assert cursor.fetchone()[0] == 0  # every foreign key points inside the new schema


def test_a_clone_keeps_the_template_names_of_its_indexes_and_constraints(db, settings):
    """A later migration removes or renames an index or a constraint by its name: a clone must have the same ones."""
    from portal.partners.clone import clone_schema_lean

    template = settings.PARTNER_TEMPLATE_SCHEMA
    assert clone_schema_lean(source=template, target="p_psi", layout_key="names") is True

    def names(schema: str) -> set[tuple[str, str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 'index', tablename, indexname FROM pg_indexes WHERE schemaname = %(schema)s "
                "UNION ALL SELECT 'constraint', conrelid::regclass::text, conname FROM pg_constraint "
                "WHERE connamespace = %(schema)s::regnamespace",
                {"schema": schema},
            )
            return {(kind, table.rsplit(".", 1)[-1], name) for kind, table, name in cursor.fetchall()}

    template_names = names(template)
    assert ("constraint", "accounts_termsacceptance", "accounts_terms_accepted_once") in template_names
    assert names("p_psi") == template_names
