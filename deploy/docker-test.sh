#!/usr/bin/env bash
# `make docker-test`: build the image with chosen plugin build args and exercise it as users do.
#
# Uses a running Docker engine when `docker info` answers (and BASE_IMAGE, default the official one).
# Otherwise, as root on Debian, it installs docker.io + debootstrap, starts a private dockerd (vfs storage,
# no bridge, its own socket and data root under DOCKER_TEST_CACHE), builds a local Debian 12 base image with
# Python 3.11 (../shared/docs/docker-here.md), and stops that engine by its PID at the end.
# Prints "docker-test skipped: REASON" and exits 0 only where no engine can be had.
#
# Environment: DOCKER_TEST_CACHE (default ~/.cache/facecore-docker-test), DOCKER_TEST_PORT (default 3000 + random),
# SKIP_TESTS (default true: `make test` already ran; false runs make test-unit inside the build),
# DOCKER_TEST_NO_BUILD=1 (reuse the image of the last run: for working on this script),
# DOCKER_TEST_MIN_FREE_GB (default 12: what a build needs free where the engine keeps its layers).
#
# Disk: vfs copies every layer in full, so each build of the private engine costs several GB. Before building,
# the script removes what earlier runs left there (the previous test image, dangling images, stopped containers);
# in a running engine it removes only its own previous image once the new one is built.
set -euo pipefail
cd "${DOCKER_TEST_ROOT:-$(dirname "$0")/..}"  # DOCKER_TEST_ROOT: when run from a copy of this script
ROOT="$PWD"
# outside the clone, so a fresh clone (as CI makes) reuses the base image and the engine's layers
CACHE="${DOCKER_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/facecore-docker-test}"
IMAGE=facecore-docker-test
LOCAL_BASE=local/bookworm-python:3.11
PORT="${DOCKER_TEST_PORT:-$((20000 + RANDOM % 20000))}"
DRAIN_S=30
# Chosen plugins (all with weights in pip packages, so the build needs no model download).
DETECTOR=facenet.FaceDetector
CALCULATOR=dlib.Calculator
EXTRAS=dlib.AgeDetector,facenet.LandmarksDetector
STARTED=$(date +%s)
DOCKERD_PID=""
DOCKERD_RUN="/tmp/facecore-docker-test-$$"  # the private engine's socket (+.sock) and exec root
CONTAINER=""

step() { echo "docker-test [$(( $(date +%s) - STARTED ))s] $*"; }
fail() { echo "docker-test FAILED: $*" >&2; [[ -n "$CONTAINER" ]] && docker logs --tail 40 "$CONTAINER" >&2 || true; exit 1; }
skip() { echo "docker-test skipped: $*"; exit 0; }

cleanup() {
    [[ -n "$CONTAINER" ]] && docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
    if [[ -n "$DOCKERD_PID" ]]; then
        kill "$DOCKERD_PID" 2>/dev/null || true
        for _ in $(seq 30); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
        kill -9 "$DOCKERD_PID" 2>/dev/null || true
        mountpoint -q "$DOCKERD_RUN/netns/default" 2>/dev/null && umount "$DOCKERD_RUN/netns/default" 2>/dev/null
        rm -rf "$DOCKERD_RUN" "$DOCKERD_RUN.sock" 2>/dev/null || true
    fi
}
trap cleanup EXIT

start_private_engine() {
    [[ "$(id -u)" == 0 ]] || skip "no Docker engine answers and starting one needs root"
    if ! command -v dockerd >/dev/null || ! command -v debootstrap >/dev/null; then
        command -v apt-get >/dev/null || skip "no Docker engine and no apt-get to install docker.io"
        step "installing docker.io and debootstrap"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap; } \
            >"$CACHE/apt.log" 2>&1 || skip "apt-get install docker.io debootstrap failed (see $CACHE/apt.log)"
    fi
    local sock="$DOCKERD_RUN.sock" exec_root="$DOCKERD_RUN"
    step "starting a private dockerd (vfs, host network)"
    local pidfile="$CACHE/dockerd.pid"  # left behind when a previous engine had to be killed: remove if stale
    if [[ -s "$pidfile" ]] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
    dockerd --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
        --data-root "$CACHE/data" --exec-root "$exec_root" --pidfile "$pidfile" \
        --host "unix://$sock" >"$CACHE/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    export DOCKER_HOST="unix://$sock"
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && return 0; kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
    tail -5 "$CACHE/dockerd.log" >&2
    skip "dockerd did not start (see $CACHE/dockerd.log)"
}

local_base_image() {
    docker image inspect "$LOCAL_BASE" >/dev/null 2>&1 && return 0
    local tarball="$CACHE/bookworm-python.tar"
    if [[ ! -s "$tarball" ]]; then
        step "debootstrap: Debian 12 with Python 3.11 (about a minute)"
        rm -rf "$CACHE/rootfs"
        debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates,curl,make,libgomp1 \
            bookworm "$CACHE/rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1 \
            || fail "debootstrap failed (see $CACHE/debootstrap.log)"
        # This network's TLS proxy: pip inside the build needs the host's CA bundle.
        cp /etc/ssl/certs/ca-certificates.crt "$CACHE/rootfs/etc/ssl/certs/ca-certificates.crt"
        tar -C "$CACHE/rootfs" -cf "$tarball.part" . && mv "$tarball.part" "$tarball" && rm -rf "$CACHE/rootfs"
    fi
    docker import "$tarball" "$LOCAL_BASE" >/dev/null
}

http() { curl --silent --show-error --max-time 60 "$@"; }

mkdir -p "$CACHE"
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    BASE_IMAGE="${BASE_IMAGE:-python:3.11-slim-bookworm}"
    step "using the running Docker engine, base $BASE_IMAGE"
else
    start_private_engine
    local_base_image
    BASE_IMAGE="${BASE_IMAGE:-$LOCAL_BASE}"
fi

free_gb() { df -Pk "$1" | awk 'NR == 2 {print int($4 / 1048576)}'; }

# The private engine's data root is ours alone: clear what earlier runs left before building anew.
clear_private_engine() {
    docker container prune -f >/dev/null 2>&1 || true
    docker rmi -f "$IMAGE" >/dev/null 2>&1 || true
    docker image prune -f >/dev/null 2>&1 || true
}

# Where the layers will be written: the private engine's data root, or the running engine's.
layers_dir() {
    if [[ -n "$DOCKERD_PID" ]]; then echo "$CACHE/data"; else docker info -f '{{.DockerRootDir}}' 2>/dev/null || echo /; fi
}

if [[ -n "${DOCKER_TEST_NO_BUILD:-}" ]] && docker image inspect "$IMAGE" >/dev/null 2>&1; then
    step "DOCKER_TEST_NO_BUILD: reusing the image built last time"
else
    [[ -n "$DOCKERD_PID" ]] && clear_private_engine
    dir=$(layers_dir)
    need="${DOCKER_TEST_MIN_FREE_GB:-12}"
    [[ -d "$dir" ]] && have=$(free_gb "$dir") || have=$need  # an engine's root we cannot see: let the build say
    [[ "$have" -ge "$need" ]] \
        || fail "$have GB free under $dir; the build needs about $need GB (set DOCKER_TEST_MIN_FREE_GB to override)"
    previous=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    step "building $IMAGE on $BASE_IMAGE (SKIP_TESTS=${SKIP_TESTS:-true})"
    docker build --network=host --quiet -t "$IMAGE" --build-arg BASE_IMAGE="$BASE_IMAGE" \
        --build-arg SKIP_TESTS="${SKIP_TESTS:-true}" --build-arg APP_VERSION_STRING=docker-test \
        --build-arg FACE_DETECTION_PLUGIN="$DETECTOR" --build-arg CALCULATION_PLUGIN="$CALCULATOR" \
        --build-arg EXTRA_PLUGINS="$EXTRAS" . >"$CACHE/build.log" 2>&1 || { tail -30 "$CACHE/build.log" >&2; fail "docker build"; }
    # the tag moved: the previous image would stay behind untagged, several GB each run
    [[ -n "$previous" && "$previous" != "$(docker image inspect -f '{{.Id}}' "$IMAGE")" ]] \
        && { docker rmi "$previous" >/dev/null 2>&1 || true; }
fi

step "serving on port $PORT (read-only root file system, as deploy/kubernetes runs it)"
CONTAINER=$(docker run -d --network=host --read-only --tmpfs /tmp -e ML_PORT="$PORT" "$IMAGE")
for i in $(seq 180); do
    http -o /dev/null --fail "localhost:$PORT/readiness" 2>/dev/null && break
    [[ "$(docker inspect -f '{{.State.Running}}' "$CONTAINER")" == true ]] || fail "the container stopped before ready"
    [[ $i == 180 ]] && fail "not ready within 180 s"
    sleep 1
done
step "ready; /status names the chosen plugins"
status=$(http "localhost:$PORT/status")
for name in "$DETECTOR" "$CALCULATOR" dlib.AgeDetector facenet.LandmarksDetector docker-test; do
    grep -q "$name" <<<"$status" || fail "/status lacks $name: $status"
done
grep -q "GenderDetector" <<<"$status" && fail "/status lists a plugin that was not chosen: $status"

step "a photo: one face with an embedding and an age"
body=$(http -F file=@sample_images/astronaut.png "localhost:$PORT/find_faces?face_plugins=calculator,age")
python3 -c '
import json, sys
faces = json.load(sys.stdin)["result"]
assert len(faces) == 1 and len(faces[0]["embedding"]) == 128 and "age" in faces[0], faces
' <<<"$body" || fail "find_faces answered $body"

step "python on the PATH is the venv's; the processes run as a non-root user"
[[ "$(docker exec "$CONTAINER" python -c 'import sys; print(sys.prefix)')" == /app/.venv ]] || fail "python is not the venv's"
[[ "$(docker exec "$CONTAINER" id -u)" != 0 ]] || fail "the service runs as root"
docker top "$CONTAINER" -o pid,user,args | awk 'NR > 1 && /uwsgi/ && ($2 == "root" || $2 == "0") {exit 1}' \
    || fail "a uwsgi process runs as root"

step "a bad plugin build arg fails the build's model step (make download-models) with one line"
if out=$(docker exec -e CALCULATION_PLUGIN=nope.Calculator "$CONTAINER" make --silent download-models 2>&1); then
    fail "make download-models accepted CALCULATION_PLUGIN=nope.Calculator"
fi
[[ "$(grep -c "^error: .*nope.Calculator" <<<"$out")" == 1 ]] || fail "not one error line naming the value: $out"

step "./benchmark.sh inside the container (default image: sample_images/)"
docker exec -e BENCH_REQUESTS=20 -e ML_URL="http://localhost:$PORT" "$CONTAINER" ./benchmark.sh 2 \
    >"$CACHE/benchmark.log" 2>&1 || { tail -20 "$CACHE/benchmark.log" >&2; fail "benchmark.sh"; }
tail -3 "$CACHE/benchmark.log"

step "/metrics sums the workers: the find_faces counter holds every request made"
metrics=$(http "localhost:$PORT/metrics")  # no `| grep -q` under pipefail: an early exit is a SIGPIPE failure
grep -Eq '^facecore_requests_total\{endpoint="find_faces",outcome="ok",status="200"\} 2[1-9]' <<<"$metrics" \
    || fail "/metrics: find_faces count is not the 21+ requests made (1 + benchmark's 20)"

step "docker run IMAGE python -m tools.scan on sample_images/ against its annotations"
docker run --rm "$IMAGE" python -m tools.scan --annotations sample_images/faces.xml --plugins calculator,age \
    -- sample_images/ >"$CACHE/scan.log" 2>&1 || { tail -20 "$CACHE/scan.log" >&2; fail "tools.scan"; }

step "SIGTERM (docker stop) drains and exits within ${DRAIN_S}s; request lines went to stdout"
stop_started=$(date +%s)
docker stop --time "$DRAIN_S" "$CONTAINER" >/dev/null
took=$(( $(date +%s) - stop_started ))
code=$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")
[[ $took -lt $DRAIN_S && "$code" != 137 ]] || fail "docker stop took ${took}s, exit code $code (137 = killed)"
stdout_log=$(docker logs "$CONTAINER" 2>/dev/null)
grep -q "GET /status" <<<"$stdout_log" || fail "no request log line on the container's stdout"

step "docker run IMAGE with a bad -e setting exits (no respawn loop)"
bad=$(docker run -d --network=host -e ML_PORT="$((PORT + 1))" -e CALCULATION_PLUGIN=nope.Calculator "$IMAGE")
for _ in $(seq 60); do [[ "$(docker inspect -f '{{.State.Running}}' "$bad")" == false ]] && break; sleep 1; done
bad_state=$(docker inspect -f '{{.State.Running}} {{.State.ExitCode}}' "$bad")
bad_lines=$(docker logs "$bad" 2>&1 | grep -c "cannot start" || true)
docker rm -f "$bad" >/dev/null
[[ "$bad_state" == "false "* && "$bad_state" != "false 0" ]] || fail "running, or exit 0, 60 s after start: $bad_state"
[[ "$bad_lines" -ge 1 ]] || fail "no 'cannot start' line in its log"

step "passed (stop took ${took}s, exit code $code)"
