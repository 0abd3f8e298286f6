# The dashboard's production image: gunicorn serving Django, static files through
# whitenoise, running as an unprivileged numeric user, holding no secret.
#
#   docker build -t weather .
#   docker run --rm weather python3 manage.py migrate --no-input   # explicit step
#   docker run -p 127.0.0.1:8000:8000 -e DJANGO_SECRET_KEY=... -e DATABASE_URL=... \
#              -e VAULT_ADDR=... -e VAULT_ROLE_ID=... -e VAULT_SECRET_ID_FILE=... weather
#
# The base is a build argument so the same file builds on the real image and on the
# Debian stand-in that CI uses where no registry can be reached. Both have `python3`
# (the stand-in has no `python`), so that is the only name used here.
#
# The default is pinned by digest, fully qualified: every build starts from the same
# bytes, and no short-name alias decides where it comes from. It is kept here and as
# PYTHON_IMAGE in .gitlab-ci.yml (the lint and pip-audit jobs), and lint-containers
# fails if the two differ. To move to a newer python:3.13-slim, put the index digest
# in both:
#   skopeo inspect --raw docker://docker.io/library/python:3.13-slim | sha256sum
#   (or: docker buildx imagetools inspect python:3.13-slim, its "Digest:")
ARG PYTHON_IMAGE=docker.io/library/python:3.13-slim@sha256:7c61056e61ac89e852de05f3dc6fa51a6dd2181797bceed46aa725dd7cb2cd3b

# --- build: a virtual environment holding the pinned runtime requirements -------------
FROM ${PYTHON_IMAGE} AS build

RUN python3 -m venv /opt/venv
# The requirements file alone comes first, so a code-only change reuses this layer
# and never reinstalls the dependencies.
COPY requirements/base.txt /tmp/requirements.txt
# Wheels only: the slim base has no compiler, and a missing wheel should fail the
# build here rather than half-build a package. Only files whose hashes base.txt
# lists are installed (make lock writes them).
RUN /opt/venv/bin/python3 -m pip install --no-cache-dir --disable-pip-version-check \
        --only-binary=:all: --require-hashes --requirement /tmp/requirements.txt

# --- runtime: the venv, the code and the collected static files ------------------------
FROM ${PYTHON_IMAGE} AS runtime

# A fixed numeric UID/GID: orchestrators can check "not root" without a passwd lookup
# (Kubernetes' runAsNonRoot), and volumes can be given to it by number.
ARG APP_UID=10001
# --no-log-init: a high UID would otherwise grow /var/log/lastlog to gigabytes.
RUN groupadd --gid "${APP_UID}" weather \
    && useradd --uid "${APP_UID}" --gid weather --no-create-home --no-log-init \
        --home-dir /nonexistent --shell /usr/sbin/nologin weather

ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# Only what runs the site; .dockerignore keeps everything else (tests, .git, .env,
# databases, virtual environments) out of the context in the first place.
COPY manage.py ./
COPY weatherproject/ weatherproject/
COPY weather/ weather/
COPY docker/start docker/healthcheck.py docker/

# Hashed, compressed static files are made once here, not at every start. Settings
# demand a secret key when DEBUG is off; this throwaway value exists only for the
# duration of this command and is never set in the image's environment.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time-only \
    python3 manage.py collectstatic --no-input --verbosity 0

# Code and static files stay owned by root: the app can read them, never rewrite them.
USER ${APP_UID}:${APP_UID}

EXPOSE 8000
# Liveness only (/healthz calls no dependency). Python does the request because the
# slim base has neither curl nor wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "/app/docker/healthcheck.py"]

# Serves the app; migrations are a separate, explicit step (see the top of this file).
CMD ["/app/docker/start"]
