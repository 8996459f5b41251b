"""A real Celery worker runs a task sent from a partner's request in that partner's schema.

alpha's and beta's first users both have id 1 (each schema has its own user table): the reset
email reaches admin@alpha.example only if the worker looked the user up in alpha's schema.
"""

import uuid

import pytest
from django.test import Client

from portal.celery import app
from tests.processes import celery_worker_command, process_environment, running, wait_for

pytestmark = pytest.mark.integration


def test_a_task_sent_from_a_partner_request_runs_in_that_schema_on_a_real_worker(
    django_db_setup, django_db_blocker, tmp_path, request
):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    environment = process_environment(
        CELERY_TASK_DEFAULT_QUEUE=queue,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
    )
    saved = {"task_always_eager": app.conf.task_always_eager, "task_default_queue": app.conf.task_default_queue}
    app.conf.update(task_always_eager=False, task_default_queue=queue)
    request.addfinalizer(lambda: app.conf.update(**saved))

    with running(celery_worker_command(queue), environment, tmp_path / "worker.log") as worker:
        assert wait_for(lambda: "ready" in (tmp_path / "worker.log").read_text(), timeout=60, process=worker), (
            tmp_path / "worker.log"
        ).read_text()
        with django_db_blocker.unblock():
            response = Client(HTTP_HOST="alpha.console.test").post(
                "/accounts/password/reset/", {"email": "admin@alpha.example"}
            )
        assert response.status_code == 302

        delivered = wait_for(lambda: any(mail_dir.iterdir()), timeout=60, process=worker)
        log = (tmp_path / "worker.log").read_text()
        assert delivered, log

    messages = [path.read_text() for path in mail_dir.iterdir()]
    assert len(messages) == 1
    message = messages[0]
    assert "To: admin@alpha.example" in message
    assert "admin@beta.example" not in message
    assert "Reset your password for Alpha IT Services" in message
    assert "http://alpha.console.test/accounts/password/reset/" in message
