"""Our service against the `face_recognition` library, on the same images and the same cores, in one run.

(a) face_recognition in-process (dlib HOG + ResNet encodings) with 1 and 2 processes, in its own venv
(``.cache/bench-venv``, created on first use); (b) the service under uWSGI configured with the same models
(dlib.FaceDetector@hog + dlib.Calculator, face_plugins=calculator) and with the default plugins (all
requested), at concurrency 1, 2, 4. Prints a Markdown table (images/s, latency p50/p95/p99, faces/s,
per-face ms per plugin from execution_time, RSS, ratio to the library with 2 processes) and writes JSON.

Example: python -m tools.benchmarks.compare --images 20 --json .cache/bench-compare.json
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path
from typing import Sequence

from tools.benchmarks import PROJECT_ROOT, SHARED, images as image_list
from tools.benchmarks.library import ensure_venv, run_library
from tools.benchmarks.service import CONFIGS, Service, load
from tools.benchmarks.stats import RunSummary

log = logging.getLogger("tools.benchmarks.compare")

DEEPFACE = SHARED / "datasets" / "deepface"


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-dir", type=Path, default=DEEPFACE, help=f"photos (default {DEEPFACE})")
    parser.add_argument("--images", type=int, default=20, help="how many photos (default 20)")
    parser.add_argument("--max-side", type=int, default=640,
                        help="shrink the photos to this longer side first, for both systems (0 = as they are)")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the photos per run (default 1)")
    parser.add_argument("--library-procs", type=_ints, default=[1, 2], help="default 1,2")
    parser.add_argument("--library-upsample", type=_ints, default=[1, 0],
                        help="face_locations upsample values (1 = the library's default and the work "
                             "dlib.FaceDetector@hog does; 0 = a cheaper, lower-recall setting); default 1,0")
    parser.add_argument("--concurrency", type=_ints, default=[1, 2, 4], help="default 1,2,4")
    parser.add_argument("--configs", default="hog,default", help=f"service configs among {sorted(CONFIGS)}")
    parser.add_argument("--processes", type=int, default=2, help="uWSGI processes (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="uWSGI threads per process (default 1)")
    parser.add_argument("--uwsgi-args", default="", help='more uWSGI options, e.g. "--listen 64"')
    parser.add_argument("--bench-venv", type=Path, default=PROJECT_ROOT / ".cache" / "bench-venv")
    parser.add_argument("--work-dir", type=Path, default=PROJECT_ROOT / ".cache" / "bench")
    parser.add_argument("--skip-library", action="store_true")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--json", type=Path, help="write every figure here")
    return parser.parse_args(argv)


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN -> "-"


def table(runs: Sequence[RunSummary], baseline: RunSummary | None) -> str:
    lines = ["| system | procs / concurrency | images | faces | images/s | faces/s | p50 ms | p95 ms | p99 ms | "
             "per-face ms | RSS MB | x library (2 procs) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for run in runs:
        ratio = run.images_per_s / baseline.images_per_s if baseline else float("nan")
        parts = ", ".join(f"{k} {_fmt(v)}" for k, v in run.per_face_ms.items())
        lines.append(f"| {run.label} | {run.workers} | {run.images} | {run.faces} | {_fmt(run.images_per_s, 2)} | "
                     f"{_fmt(run.faces_per_s, 2)} | {_fmt(run.p(50), 0)} | {_fmt(run.p(95), 0)} | {_fmt(run.p(99), 0)} "
                     f"| {parts} | {_fmt(run.rss_mb, 0)} | {_fmt(ratio, 2)} |")
    return "\n".join(lines)


def run_all(args: argparse.Namespace) -> tuple[list[RunSummary], dict[str, float]]:
    sources = image_list.pick(args.image_dir, args.images)
    if not sources:
        raise SystemExit(f"no photos in {args.image_dir}")
    photos = image_list.shrink_to(sources, args.work_dir / "images", args.max_side)
    runs: list[RunSummary] = []
    startups: dict[str, float] = {}
    if not args.skip_library:
        python = ensure_venv(args.bench_venv)
        for upsample in args.library_upsample:
            for procs in args.library_procs:
                log.info("library: %d process(es), upsample %d", procs, upsample)
                runs.append(run_library(python, photos, procs, upsample, args.rounds))
    if not args.skip_service:
        for key in args.configs.split(","):
            config = CONFIGS[key.strip()]
            log_path = args.work_dir / f"uwsgi-{key.strip()}.log"
            with Service(config, args.processes, args.threads, log_path,
                         extra_args=args.uwsgi_args.split()) as service:
                startups[config.name] = service.startup_s
                log.info("service %s ready in %.1f s on port %d", config.name, service.startup_s, service.port)
                for concurrency in args.concurrency:
                    label = f"service {config.name} ({args.processes}p x {args.threads}t{' ' * bool(args.uwsgi_args)}" \
                        f"{args.uwsgi_args})"
                    runs.append(load(service, photos, concurrency, args.rounds, label))
    return runs, startups


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.perf_counter()
    runs, startups = run_all(args)
    baseline = next((r for r in runs if r.label == "face_recognition, upsample 1" and r.workers == 2), None)
    out = [table(runs, baseline), ""]
    out += [f"start-up to ready ({args.processes} workers, models loaded and warmed): {name} {seconds:.1f} s"
            for name, seconds in startups.items()]
    out.append(f"{args.images} photos from {args.image_dir} shrunk to {args.max_side} px, {args.rounds} round(s); "
               f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
               f"total {time.perf_counter() - started:.0f} s")
    sys.stdout.write("\n".join(out) + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": [r.as_dict() for r in runs], "startup_s": startups,
                                         "args": {k: str(v) for k, v in vars(args).items()},
                                         "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}},
                                        indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
