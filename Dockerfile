# face-core image. Every step is a Makefile target that CI runs too (make install / download-models / test-unit).
#   docker build -t face-core .
#   docker build -t face-core-insightface --build-arg FACE_DETECTION_PLUGIN=insightface.FaceDetector@det_500m \
#       --build-arg CALCULATION_PLUGIN=insightface.Calculator@w600k_mbf .
#   docker build -t face-core-gpu --build-arg GPU_IDX=0 ...   (run with --gpus all)
FROM python:3.11-slim-bookworm

ARG FACE_DETECTION_PLUGIN=libfacedetection.FaceDetector
ARG CALCULATION_PLUGIN=dlib.Calculator
ARG EXTRA_PLUGINS="facenet.LandmarksDetector,dlib.AgeDetector,dlib.GenderDetector,facenet.PoseEstimator"
ARG GPU_IDX=-1
ARG SKIP_TESTS=false
ARG APP_VERSION_STRING=dev

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
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends make curl libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 app

WORKDIR /app
COPY . /app
RUN make install \
    && if [ "${GPU_IDX}" -ge 0 ]; then make install-gpu; fi \
    && make download-models \
    && if [ "${SKIP_TESTS}" != "true" ]; then make test-unit && rm -rf .venv/.installed-dev; fi \
    && mkdir -p /app/models && chown -R app:app /app/models

USER app
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=1s --start-period=60s --retries=3 \
    CMD curl --fail --silent "http://localhost:${ML_PORT}/healthcheck" || exit 1
CMD [".venv/bin/uwsgi", "--ini", "uwsgi.ini"]
