#!/usr/bin/env bash
# Run the configured pipeline under each memory limit on each image and print OK/FAIL, so operators know
# the smallest machine a configuration fits.
#
#   tools/test_memory_constraints.sh [IMAGE...]           limits from MEM_LIMITS (default "512M 1G 1536M 2G 3G 4G")
#   MEM_LIMITS="1G 2G" FACE_DETECTION_PLUGIN=dlib.FaceDetector tools/test_memory_constraints.sh photo.jpg
#
# Each run is `python -m tools.scan IMAGE` (the service's own load + warm-up + every configured plugin) in a
# fresh process limited by MEM_METHOD: prlimit (default; address space via `prlimit --as`, no privileges; an
# upper bound of what RSS needs, since runtimes reserve more address space than they touch), systemd
# (`systemd-run --user --scope -p MemoryMax=`, cgroup v2), or docker (`docker run --memory`, image
# $DOCKER_IMAGE, default face-core). Exit code 0 when some limit fitted every image (the smallest is printed),
# 1 when none did, 2 on bad usage.
set -uo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
# Paths are the caller's: resolved before moving to the project root, and a missing one is named as such.
IMAGES=()
for image in "$@"; do
    if [[ ! -f "$image" ]]; then
        echo "error: no such file: $image" >&2
        exit 2
    fi
    IMAGES+=("$(realpath "$image")")
done
cd "$(dirname "$0")/.."
LIMITS=(${MEM_LIMITS:-512M 1G 1536M 2G 3G 4G})
METHOD="${MEM_METHOD:-prlimit}"
PYTHON="${PYTHON:-$( [[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3 )}"
if [[ ${#IMAGES[@]} -eq 0 ]]; then
    mapfile -t IMAGES < <(find sample_images -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.png' \) | sort)
    [[ ${#IMAGES[@]} -eq 0 && -f ../shared/datasets/deepface/img1.jpg ]] && IMAGES=(../shared/datasets/deepface/img1.jpg)
fi
if [[ ${#IMAGES[@]} -eq 0 ]]; then
    echo "error: no images; give paths" >&2
    exit 2
fi

bytes() {  # 512M -> bytes
    local value="${1^^}"
    case "$value" in
        *G) echo $(( ${value%G} * 1024 * 1024 * 1024 )) ;;
        *M) echo $(( ${value%M} * 1024 * 1024 )) ;;
        *K) echo $(( ${value%K} * 1024 )) ;;
        *) echo "$value" ;;
    esac
}

run_limited() {  # LIMIT IMAGE
    local limit="$1" image="$2"
    export FACECORE_NO_PROGRESS=1 LOGGING_LEVEL_NAME="${LOGGING_LEVEL_NAME:-error}"
    case "$METHOD" in
        prlimit) prlimit --as="$(bytes "$limit")" -- "$PYTHON" -m tools.scan --out "$TMP_OUT" "$image" ;;
        systemd) systemd-run --user --scope --quiet -p MemoryMax="$limit" -p MemorySwapMax=0 -- \
                     "$PYTHON" -m tools.scan --out "$TMP_OUT" "$image" ;;
        docker) docker run --rm --memory="$limit" --memory-swap="$limit" -v "$(realpath "$image"):/in/image:ro" \
                     --entrypoint python "${DOCKER_IMAGE:-face-core}" -m tools.scan --out /tmp /in/image ;;
        *) echo "error: MEM_METHOD=$METHOD is not prlimit, systemd or docker" >&2; exit 2 ;;
    esac
}

TMP_OUT="$(mktemp -d)"
trap 'rm -rf "$TMP_OUT"' EXIT
smallest=""
echo "configuration: ${FACE_DETECTION_PLUGIN:-default detector}, ${CALCULATION_PLUGIN:-default calculator}," \
     "extras ${EXTRA_PLUGINS-default}; method $METHOD"
for limit in "${LIMITS[@]}"; do
    all_ok=1
    for image in "${IMAGES[@]}"; do
        if run_limited "$limit" "$image" > /dev/null 2> "$TMP_OUT/stderr"; then
            echo "OK   $limit $image"
        else
            all_ok=0
            echo "FAIL $limit $image: $(grep -v '^\s*$' "$TMP_OUT/stderr" | tail -n1 | cut -c1-160)"
        fi
    done
    [[ $all_ok -eq 1 && -z "$smallest" ]] && smallest="$limit"
done
if [[ -n "$smallest" ]]; then
    echo "smallest limit that fits every image: $smallest"
    exit 0
fi
echo "no limit fitted every image" >&2
exit 1
