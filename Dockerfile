# Image for docker-compose.yml: the service, its templates and migrations.
FROM python:3.11.13-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY newsletter ./newsletter
COPY templates ./templates
COPY alembic ./alembic
RUN pip install --no-cache-dir -e .
EXPOSE 8000
CMD ["newsletter", "serve", "--host", "0.0.0.0", "--port", "8000"]
