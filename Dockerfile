# Production image: gunicorn for web, the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=portal.settings.base

WORKDIR /app
RUN useradd --create-home --uid 1000 console

# Exactly the locked versions and files (./dev lock): every dependency pinned, every download checked.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock

COPY . .
# collectstatic needs settings but no database; the secrets are build-time placeholders only (the
# running containers get the real ones from docker-compose.yml, and refuse to start without them).
RUN export SECRET_KEY=build-only-placeholder MICROSOFT_CLIENT_ID=build-only-placeholder \
        MICROSOFT_CLIENT_SECRET=build-only-placeholder \
    && python manage.py collectstatic --noinput -v 0 \
    && python manage.py compile_translations

USER console
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
