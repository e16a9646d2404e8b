#!/usr/bin/env bash
# Throughput and latency (p50/p95/p99) of a running service at a given concurrency.
#
#   ./benchmark.sh [CONCURRENCY] [ENDPOINT]        e.g. ./benchmark.sh 4 find_faces
#   ./benchmark.sh compare [ARGS]    service vs face_recognition and InsightFace's package, same images and cores
#   ./benchmark.sh targets OLD_CHECKOUT [REPEATS]  issue 15's targets in one run: the 5-face photo, the portraits
#                                    and the group photos, against the peers and OLD_CHECKOUT's default plugins
#   ./benchmark.sh floor [--openvino] FLOPs per model and this CPU's matmul rate -> the fastest possible time
#
# ML_URL (default http://localhost:3000), BENCH_IMAGE (default sample_images/ first image, else a deepface
# photo from ../shared), BENCH_REQUESTS (default 100), BENCH_SECONDS (default 60), BENCH_FACE_PLUGINS
# (find_faces' face_plugins, default calculator; all: calculator,age,gender,landmarks,pose). First checks that a
# response carries an embedding. Works inside the container and outside (needs python with requests/numpy).
# Exit code 0 when the check and every request succeeded.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
cd "$(dirname "$0")"
PYTHON="${PYTHON:-$( [[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3 )}"
case "${1:-}" in
    compare) exec "$PYTHON" -m tools.benchmarks.compare --json .cache/bench/compare.json "${@:2}" ;;
    floor) exec "$PYTHON" -m tools.benchmarks.flops --measure "${@:2}" ;;
    targets)
        OLD="${2:?usage: ./benchmark.sh targets OLD_CHECKOUT [REPEATS]}"
        COMMON=(--repeats "${3:-3}" --max-side 0 --baseline "$OLD" --library-procs 2 --library-upsample 1)
        "$PYTHON" -m tools.benchmarks.compare "${COMMON[@]}" --photos ../shared/datasets/deepface/selfie-many-people.jpg \
            --rounds 20 --peers none --concurrency 1 --configs default,default-1t,bf16,baseline --json .cache/bench/targets-selfie.json
        "$PYTHON" -m tools.benchmarks.compare "${COMMON[@]}" --images 20 --rounds 2 --concurrency 1,2 \
            --configs hog,default,default-1t,bf16,baseline,insightface --json .cache/bench/targets-portraits.json
        "$PYTHON" -m tools.benchmarks.compare "${COMMON[@]}" --image-dir ../shared/datasets/dlib-faces --images 10 \
            --rounds 4 --concurrency 1,2 --configs hog,default,default-1t,bf16,baseline,insightface --json .cache/bench/targets-dlibfaces.json
        # InsightFace against the service on its files alone: longer runs, more repeats (each run above lasts seconds)
        PEER=(--repeats 5 --peers insightface --library-procs 2 --configs insightface --concurrency 2)
        "$PYTHON" -m tools.benchmarks.compare "${PEER[@]}" --images 20 --rounds 8 --json .cache/bench/targets-insightface-640.json
        exec "$PYTHON" -m tools.benchmarks.compare "${PEER[@]}" --image-dir ../shared/datasets/dlib-faces --images 10 \
            --max-side 0 --rounds 16 --json .cache/bench/targets-insightface-dlibfaces.json ;;
esac
CONCURRENCY="${1:-1}"
ENDPOINT="${2:-find_faces}"
ML_URL="${ML_URL:-http://localhost:3000}"
IMAGE="${BENCH_IMAGE:-}"
if [[ -z "$IMAGE" ]]; then
    IMAGE="$(find sample_images -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.png' \) 2>/dev/null | sort | head -n1)"
    [[ -z "$IMAGE" && -f ../shared/datasets/deepface/img1.jpg ]] && IMAGE=../shared/datasets/deepface/img1.jpg
fi
if [[ -z "$IMAGE" ]]; then
    echo "error: no image; set BENCH_IMAGE=path/to/face.jpg" >&2
    exit 1
fi
export ML_URL
exec "$PYTHON" -m tools.load --url "$ML_URL" --endpoint "$ENDPOINT" --concurrency "$CONCURRENCY" \
    --requests "${BENCH_REQUESTS:-100}" --max-seconds "${BENCH_SECONDS:-60}" \
    --face-plugins "${BENCH_FACE_PLUGINS:-calculator}" "$IMAGE"
