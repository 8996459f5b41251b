from celery import shared_task

from api.services import idempotent_responses_forget


@shared_task(name="api.tasks.idempotent_responses_forget", ignore_result=True)
def idempotent_responses_forget_task() -> int:
    """Beat, per partner (`dispatch_to_partners`): forget the answers to Idempotency-Keys older than a day."""
    return idempotent_responses_forget()
