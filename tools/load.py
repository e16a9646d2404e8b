"""A small load generator for the service: N threads posting one image, bounded by requests and time.

    python -m tools.load --concurrency 4 --requests 200 --endpoint find_faces image.jpg

Talks only to ``--url`` (default ML_URL or http://localhost:3000), which must be localhost or ML_URL.
First checks that one response carries an embedding (exit 1 if not), then prints throughput and latency
percentiles (p50/p95/p99, ms) as text, or JSON with ``--json``. Exit code 0 when every request got a 200.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

ENDPOINTS = ("find_faces", "scan_faces", "vectorize")
#: find_faces' face_plugins unless told otherwise: the embedding, what every check looks for.
DEFAULT_FACE_PLUGINS = "calculator"
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass
class LoadResult:
    requests: int
    failures: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    def as_dict(self) -> dict[str, float]:
        return {"requests": self.requests, "failures": self.failures, "seconds": round(self.seconds, 3),
                "throughput_rps": round(self.throughput, 2), "p50_ms": round(self.percentile(50), 1),
                "p95_ms": round(self.percentile(95), 1), "p99_ms": round(self.percentile(99), 1)}


def allowed(url: str) -> bool:
    """Only localhost or the configured ML_URL: this tool must never load someone else's server."""
    host = urlparse(url).hostname or ""
    configured = urlparse(os.environ.get("ML_URL", "")).hostname
    return host in LOCAL_HOSTS or (configured is not None and host == configured)


def endpoint_url(url: str, endpoint: str, face_plugins: str = DEFAULT_FACE_PLUGINS) -> str:
    query = f"?face_plugins={face_plugins}" if endpoint == "find_faces" else ""
    return f"{url.rstrip('/')}/{endpoint}{query}"


def has_embedding(body) -> bool:  # type: ignore[no-untyped-def]
    """True when a response of /find_faces, /scan_faces or /vectorize holds a non-empty embedding."""
    faces = body if isinstance(body, list) else body.get("result", [])
    return bool(faces) and bool(faces[0].get("embedding") or faces[0].get("vector"))


def check(url: str, endpoint: str, image: bytes, timeout: float = 120.0,
          face_plugins: str = DEFAULT_FACE_PLUGINS) -> str | None:
    """None when one request answers 200 with an embedding, else what went wrong."""
    import requests

    try:
        response = requests.post(endpoint_url(url, endpoint, face_plugins), files={"file": ("image.jpg", image)},
                                 timeout=timeout)
    except requests.RequestException as error:
        return f"cannot reach {url}: {error}"
    if response.status_code != 200:
        return f"{endpoint} answered {response.status_code}: {response.text[:200]}"
    if not has_embedding(response.json()):
        return f"{endpoint} answered without an embedding: {response.text[:200]}"
    return None


def run_load(url: str, endpoint: str, image: bytes, concurrency: int, total: int, max_seconds: float,
             timeout: float = 60.0, face_plugins: str = DEFAULT_FACE_PLUGINS) -> LoadResult:
    """``total`` requests over ``concurrency`` threads (one session each), stopping early at ``max_seconds``."""
    import requests

    target = endpoint_url(url, endpoint, face_plugins)
    latencies: list[float] = []
    failures = [0]
    counter = iter(range(total))
    lock = threading.Lock()
    deadline = time.perf_counter() + max_seconds

    def worker() -> None:
        with requests.Session() as session:
            while time.perf_counter() < deadline:
                with lock:
                    if next(counter, None) is None:
                        return
                started = time.perf_counter()
                try:
                    ok = session.post(target, files={"file": ("image.jpg", image)}, timeout=timeout).status_code == 200
                except requests.RequestException:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000.0
                with lock:
                    latencies.append(elapsed)
                    failures[0] += 0 if ok else 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, concurrency))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(len(latencies), failures[0], time.perf_counter() - started, latencies)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.load", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("image", type=Path, help="the image every request posts")
    parser.add_argument("--url", default=os.environ.get("ML_URL", "http://localhost:3000"))
    parser.add_argument("--endpoint", choices=ENDPOINTS, default="find_faces")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--requests", type=int, default=100, help="at most this many requests")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="stop after this long")
    parser.add_argument("--face-plugins", default=DEFAULT_FACE_PLUGINS,
                        help="find_faces' face_plugins (default calculator; e.g. calculator,age,gender,landmarks,pose)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not allowed(args.url):
        print(f"error: {args.url} is neither localhost nor ML_URL; refusing to load it", file=sys.stderr)
        return 1
    image = args.image.read_bytes()
    problem = check(args.url, args.endpoint, image, face_plugins=args.face_plugins)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    result = run_load(args.url, args.endpoint, image, args.concurrency, args.requests, args.max_seconds,
                      face_plugins=args.face_plugins)
    if args.json:
        print(json.dumps({"endpoint": args.endpoint, "face_plugins": args.face_plugins,
                          "concurrency": args.concurrency, **result.as_dict()}))
    else:
        figures = result.as_dict()
        print(f"{args.endpoint} concurrency={args.concurrency}: {figures['requests']} requests in "
              f"{figures['seconds']} s, {figures['throughput_rps']} req/s, p50 {figures['p50_ms']} ms, "
              f"p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, {figures['failures']} failed")
    return 1 if result.failures or not result.requests else 0


if __name__ == "__main__":
    sys.exit(main())
