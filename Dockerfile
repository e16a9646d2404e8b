# face-core image. Every step is a Makefile target that CI runs too (make install / download-models / test-unit);
# `make docker-test` builds this file and exercises the image for real (deploy/docker-test.sh).
#   docker build -t face-core .
#   docker build -t face-core-insightface --build-arg FACE_DETECTION_PLUGIN=insightface.FaceDetector@det_500m \
#       --build-arg CALCULATION_PLUGIN=insightface.Calculator@w600k_mbf .
#   docker build -t face-core-gpu --build-arg GPU_IDX=0 ...   (run with --gpus all)
#   docker build --build-arg BASE_IMAGE=local/bookworm-python:3.11 ...   (any Debian/Ubuntu with Python 3.11)
# Few, large layers (each is a full copy on some storage drivers): the code, then packages, venv and models.
ARG BASE_IMAGE=python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

ARG FACE_DETECTION_PLUGIN=libfacedetection.FaceDetector
ARG CALCULATION_PLUGIN=dlib.Calculator
ARG EXTRA_PLUGINS="facenet.LandmarksDetector,dlib.AgeDetector,dlib.GenderDetector,facenet.PoseEstimator"
ARG GPU_IDX=-1
ARG SKIP_TESTS=false
ARG APP_VERSION_STRING=dev

# PATH: `python`, `pip` and `uwsgi` are the venv's (docker run IMAGE python -m tools.scan ...).
ENV FACE_DETECTION_PLUGIN=${FACE_DETECTION_PLUGIN} \
    CALCULATION_PLUGIN=${CALCULATION_PLUGIN} \
    EXTRA_PLUGINS=${EXTRA_PLUGINS} \
    GPU_IDX=${GPU_IDX} \
    APP_VERSION_STRING=${APP_VERSION_STRING} \
    MODELS_ROOT=/app/models \
    ML_PORT=3000 \
    UWSGI_PROCESSES=2 \
    UWSGI_THREADS=1 \
    UWSGI_HARAKIRI=60 \
    UWSGI_LISTEN=64 \
    PYTHON=python3 \
    PATH=/app/.venv/bin:${PATH} \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /app
COPY . /app
# The official image lacks make/curl/libgomp; a base that has them (the local one CI builds) skips apt.
RUN if ! command -v make >/dev/null || ! command -v curl >/dev/null || ! ldconfig -p | grep -q libgomp.so.1; then \
        apt-get update && apt-get install -y --no-install-recommends make curl libgomp1 \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && useradd --create-home --uid 10001 app \
    && make install \
    && if [ "${GPU_IDX}" -ge 0 ]; then make install-gpu; fi \
    && make download-models \
    && if [ "${SKIP_TESTS}" != "true" ]; then make test-unit && rm -rf .venv/.installed-dev; fi \
    && mkdir -p /app/models /app/tools/tmp && chown -R app:app /app/models /app/tools/tmp

USER app
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=1s --start-period=60s --retries=3 \
    CMD curl --fail --silent "http://localhost:${ML_PORT}/healthcheck" || exit 1
# uWSGI writes its log and the app's to stderr; 2>&1 puts it all on stdout, where log collectors read it.
CMD ["sh", "-c", "exec uwsgi --ini uwsgi.ini 2>&1"]
