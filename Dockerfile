# LeadCRM application image: web (gunicorn), Celery worker and beat, and one-shot migrate.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=leadcrm.settings.production

WORKDIR /app
RUN useradd --system --create-home --uid 10001 --user-group leadcrm

# Dependencies first, so code changes do not reinstall them.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY . .
# Static files are collected at build time (hashed names, compressed; served by whitenoise).
# The values below exist only so settings import; nothing connects anywhere.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost REDIS_URL=redis://localhost:6379/0 \
        python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R leadcrm:leadcrm /app/.data

USER leadcrm
EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn reads it; default 1 per process), e.g. 2-4 per core.
# Log format, UTC times and the access log: leadcrm/gunicorn_config.py.
CMD ["gunicorn", "leadcrm.wsgi:application", "-c", "python:leadcrm.gunicorn_config", "--bind", "0.0.0.0:8000", \
     "--threads", "4", "--forwarded-allow-ips", "*"]
