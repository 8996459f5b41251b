"""Deploy-time migrations: only the partner schemas that are behind are migrated, each in one transaction,
failures named and retried alone, and a partner whose schema is behind sees the maintenance page."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from portal.partners.models import SchemaMigrationState
from portal.partners.schema_migrations import code_migration_digest, schemas_applied_digests
from portal.partners.services import partner_create
from tests.support import host_of

OLD_DIGEST = "0" * 32


def migrate_partners(*arguments: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("migrate_partners", "--processes", "1", *arguments, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def table_exists(schema_name: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{schema_name}.{table}"])
        return cursor.fetchone()[0]


def make_behind(schema_name: str, *, drop_table: bool = True) -> None:
    """As if the code had gained the sessions migration after this schema was last migrated."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {schema_name}.django_migrations WHERE app = 'sessions'")
        if drop_table:
            cursor.execute(f"DROP TABLE {schema_name}.django_session")
    SchemaMigrationState.objects.filter(schema_name=schema_name).update(digest=OLD_DIGEST)


def recorded(schema_name: str) -> SchemaMigrationState:
    return SchemaMigrationState.objects.get(schema_name=schema_name)


def test_a_new_partner_schema_is_recorded_as_current(db):
    partner_create(name="Kappa", slug="kappa", admin_email="a@kappa.example")

    state = recorded("p_kappa")
    assert state.digest == code_migration_digest()
    assert schemas_applied_digests(["p_kappa"]) == {"p_kappa": code_migration_digest()}
    assert state.error == ""


def test_a_deploy_with_nothing_to_migrate_costs_the_same_few_queries_however_many_partners(
    db, django_assert_max_num_queries
):
    # eight questions, each after django-tenants' SET search_path
    with django_assert_max_num_queries(18) as with_two:
        output, _errors = migrate_partners()
    assert "No partner schema is behind: nothing to migrate" in output

    partner_create(name="Lambda", slug="lambda", admin_email="a@lambda.example")
    partner_create(name="Mu", slug="mu", admin_email="a@mu.example")
    with django_assert_max_num_queries(len(with_two.captured_queries)):
        output, _errors = migrate_partners()
    assert "nothing to migrate" in output


def test_only_the_schemas_behind_are_migrated_and_recorded(db, partner_alpha):
    partner_create(name="Nu", slug="nu", admin_email="a@nu.example")
    make_behind("p_nu")
    alpha_before = recorded(partner_alpha.schema_name).updated

    dry_run, _errors = migrate_partners("--dry-run")
    assert dry_run.splitlines() == ["p_nu", "1 partner schema(s) behind; nothing was changed."]
    assert not table_exists("p_nu", "django_session")

    output, _errors = migrate_partners()

    assert "1/1 partner schemas migrated, 0 failed" in output
    assert "Migrated 1 of 1 partner schema(s) that were behind, 0 failed" in output
    assert table_exists("p_nu", "django_session")
    assert recorded("p_nu").digest == code_migration_digest()
    assert recorded(partner_alpha.schema_name).updated == alpha_before
    assert "nothing to migrate" in migrate_partners()[0]


def test_a_failing_schema_is_named_left_whole_and_retried_alone(db):
    partner_create(name="Xi", slug="xi", admin_email="a@xi.example")
    partner_create(name="Omicron", slug="omicron", admin_email="a@omicron.example")
    make_behind("p_omicron")
    # the migration record is gone but the table is still there: creating it again fails
    make_behind("p_xi", drop_table=False)

    with pytest.raises(CommandError) as error:
        migrate_partners()

    assert "Migrated 1 of 2 partner schema(s) that were behind, 1 failed" in str(error.value)
    assert "migrate_partners --failed" in str(error.value)
    assert recorded("p_omicron").digest == code_migration_digest()
    failed = recorded("p_xi")
    assert failed.digest == OLD_DIGEST
    assert 'relation "django_session" already exists' in failed.error
    # nothing of the failed schema's migration stayed
    assert schemas_applied_digests(["p_xi"])["p_xi"] != code_migration_digest()

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE p_xi.django_session")
    output, _errors = migrate_partners("--failed")

    assert "Migrated 1 of 1 partner schema(s) that were behind, 0 failed" in output
    assert recorded("p_xi").digest == code_migration_digest()
    assert recorded("p_xi").error == ""


def test_verify_reads_the_schemas_instead_of_the_records(db):
    partner_create(name="Pi", slug="pi", admin_email="a@pi.example")
    with connection.cursor() as cursor:  # changed by hand, behind the records' back
        cursor.execute("DELETE FROM p_pi.django_migrations WHERE app = 'sessions'")
        cursor.execute("DROP TABLE p_pi.django_session")

    assert migrate_partners("--dry-run", "--stage", "partners")[0].startswith("0 partner")

    output, _errors = migrate_partners("--verify")

    assert "Migrated 1 of 1" in output
    assert table_exists("p_pi", "django_session")


def test_migrate_schemas_run_by_hand_keeps_the_records_true(db):
    partner_create(name="Rho", slug="rho", admin_email="a@rho.example")
    make_behind("p_rho")

    call_command("migrate_schemas", schema_name="p_rho", interactive=False, verbosity=0)

    assert recorded("p_rho").digest == code_migration_digest()


def test_the_partner_template_is_migrated_by_the_public_stage(db):
    make_behind(settings.PARTNER_TEMPLATE_SCHEMA)

    migrate_partners("--stage", "public")

    assert table_exists(settings.PARTNER_TEMPLATE_SCHEMA, "django_session")
    assert recorded(settings.PARTNER_TEMPLATE_SCHEMA).digest == code_migration_digest()


def test_a_partner_whose_schema_is_behind_sees_the_maintenance_page(db, alpha_client):
    partner = partner_create(name="Sigma", slug="sigma", admin_email="a@sigma.example").partner
    make_behind("p_sigma")

    response = Client(HTTP_HOST=host_of(partner)).get("/accounts/sign-in/")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "This console is being updated" in response.content.decode()
    # the other partners are served meanwhile
    assert alpha_client.get("/accounts/sign-in/").status_code == 200

    migrate_partners()
    assert Client(HTTP_HOST=host_of(partner)).get("/accounts/sign-in/").status_code == 200


def test_a_schema_ahead_of_the_code_is_served(db):
    """During a rolling deploy an older web process meets schemas recorded under a newer digest."""
    partner = partner_create(name="Tau", slug="tau", admin_email="a@tau.example").partner
    SchemaMigrationState.objects.filter(schema_name="p_tau").update(digest=OLD_DIGEST)

    assert Client(HTTP_HOST=host_of(partner)).get("/accounts/sign-in/").status_code == 200


def test_beat_skips_a_partner_whose_schema_is_behind(db, partner_alpha, monkeypatch):
    from portal.core import tasks as core_tasks

    partner_create(name="Upsilon", slug="upsilon", admin_email="a@upsilon.example")
    make_behind("p_upsilon")
    sent: list[str] = []

    class Recorder:
        def apply_async(self, countdown):
            sent.append(connection.schema_name)

    monkeypatch.setattr(core_tasks.app, "signature", lambda name, kwargs: Recorder())

    core_tasks.dispatch_to_partners("portal.accounts.tasks.sessions_clear_expired", spread_seconds=0)

    assert "p_upsilon" not in sent
    assert partner_alpha.schema_name in sent
