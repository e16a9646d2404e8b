"""Our service against the libraries users would pick instead, on the same images and the same cores, in one run.

Peers, in-process, each in its own venv made on first use: (a) `face_recognition` (dlib HOG + ResNet encodings;
``.cache/bench-venv``) and (b) InsightFace's own package (``insightface.app.FaceAnalysis`` on SCRFD-500M and the
converted MobileFace v2 ONNX files; ``.cache/bench-insightface-venv``), with 1 and 2 processes. The service under
uWSGI: ``hog`` (dlib.FaceDetector@hog + dlib.Calculator, face_plugins=calculator), ``default`` (the default
plugins, all face plugins requested), ``insightface`` (the same SCRFD and MobileFace files as InsightFace's
package, served as models of one's own) and ``baseline`` (the default plugins as another checkout serves them:
``--baseline PATH``, a worktree of an older commit with its own .venv), at each concurrency.

``--repeats N`` runs everything N times, interleaved (each repeat runs every system once, in turn), and reports
the median and range of each figure and of each ratio taken within a repeat. Prints a Markdown table and writes
JSON.

Example: python -m tools.benchmarks.compare --images 20 --json .cache/bench-compare.json
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from tools.benchmarks import PROJECT_ROOT, SHARED, images as image_list
from tools.benchmarks.library import FACE_RECOGNITION, INSIGHTFACE, PEERS, ensure_venv, run_library, run_peer
from tools.benchmarks.service import CONFIGS, Service, ServiceConfig, checkout_config, insightface_config, load
from tools.benchmarks.stats import RunSummary

log = logging.getLogger("tools.benchmarks.compare")

DEEPFACE = SHARED / "datasets" / "deepface"
#: the rows every ratio column divides by (label, workers); "baseline" pairs a row with its older commit's
FACE_RECOGNITION_2 = ("face_recognition, upsample 1", 2)
INSIGHTFACE_2 = ("insightface (FaceAnalysis)", 2)
INSIGHTFACE_ENV = "INFERENCE_BACKEND=onnxruntime calculator:openvino"


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-dir", type=Path, default=DEEPFACE, help=f"photos (default {DEEPFACE})")
    parser.add_argument("--images", type=int, default=20, help="how many photos (default 20)")
    parser.add_argument("--photos", type=Path, nargs="+", help="these photos instead of --image-dir/--images")
    parser.add_argument("--max-side", type=int, default=640,
                        help="shrink the photos to this longer side first, for both systems (0 = as they are)")
    parser.add_argument("--rounds", type=int, default=1, help="passes over the photos per run (default 1)")
    parser.add_argument("--repeats", type=int, default=1, help="interleaved repeats of the whole run (default 1)")
    parser.add_argument("--peers", default="face_recognition,insightface", help=f"among {sorted(PEERS)}, or none")
    parser.add_argument("--library-procs", type=_ints, default=[1, 2], help="peer processes, default 1,2")
    parser.add_argument("--library-upsample", type=_ints, default=[1, 0],
                        help="face_recognition's face_locations upsample values (1 = the library's default and "
                             "the work dlib.FaceDetector@hog does; 0 = a cheaper, lower-recall setting); default 1,0")
    parser.add_argument("--insightface-threads", type=int, default=1,
                        help="ONNX Runtime threads per InsightFace process (default 1, as each service worker; "
                             "0 = ONNX Runtime's default, one per core)")
    parser.add_argument("--concurrency", type=_ints, default=[1, 2, 4], help="default 1,2,4")
    parser.add_argument("--configs", default="hog,default,insightface",
                        help=f"service configs among {sorted([*CONFIGS, 'insightface', 'baseline'])}")
    parser.add_argument("--insightface-env", default=INSIGHTFACE_ENV,
                        help=f'variables for the insightface config, ";"-separated (default "{INSIGHTFACE_ENV}": '
                             'MobileFace v2 runs 4x faster on OpenVINO\'s kernels, SCRFD faster on ONNX Runtime\'s)')
    parser.add_argument("--baseline", type=Path, help="another checkout (with its .venv) for the baseline config")
    parser.add_argument("--processes", type=int, default=2, help="uWSGI processes (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="uWSGI threads per process (default 1)")
    parser.add_argument("--uwsgi-args", default="", help='more uWSGI options, e.g. "--listen 64"')
    parser.add_argument("--bench-venvs", type=Path, default=PROJECT_ROOT / ".cache",
                        help="where the peers' venvs live (bench-venv, bench-insightface-venv)")
    parser.add_argument("--work-dir", type=Path, default=PROJECT_ROOT / ".cache" / "bench")
    parser.add_argument("--skip-library", action="store_true", help="no peers (same as --peers none)")
    parser.add_argument("--skip-service", action="store_true")
    parser.add_argument("--json", type=Path, help="write every figure here")
    return parser.parse_args(argv)


def _fmt(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:.{digits}f}"  # NaN -> "-"


def _spread(values: Sequence[float], digits: int) -> str:
    """``median`` or ``median (min-max)`` over the repeats."""
    values = [v for v in values if v == v]
    if not values:
        return "-"
    middle = _fmt(statistics.median(values), digits)
    return middle if len(values) == 1 else f"{middle} ({_fmt(min(values), digits)}-{_fmt(max(values), digits)})"


def _key(run: RunSummary) -> tuple[str, int]:
    return run.label, run.workers


def ratios(runs: Sequence[RunSummary], row: tuple[str, int], reference: tuple[str, int],
           cpu: bool = False) -> list[float]:
    """images/s of ``row`` over ``reference`` (``cpu``: the reference's CPU ms per image over the row's), one ratio
    per repeat in which both ran."""
    by_repeat: dict[int, dict[tuple[str, int], RunSummary]] = {}
    for run in runs:
        by_repeat.setdefault(run.extra.get("repeat", 0), {})[_key(run)] = run
    pairs = [(found[row], found[reference]) for found in by_repeat.values() if row in found and reference in found]
    if cpu:
        return [ref.cpu_ms_per_image / ours.cpu_ms_per_image for ours, ref in pairs]
    return [ours.images_per_s / ref.images_per_s for ours, ref in pairs]


def baseline_of(label: str, labels: Sequence[str]) -> str | None:
    """The older commit's default-plugins row for a default-plugins row of ours (`` @ commit`` in its label)."""
    if "default plugins" not in label or " @ " in label:
        return None
    return next((other for other in labels if "default plugins @ " in other), None)


HEADER = ("| system | procs / concurrency | images | faces | images/s | p50 ms | p95 ms | CPU ms per image "
          "| per-face ms | RSS MB | x face_recognition (2 procs) | x InsightFace (2 procs) "
          "| x InsightFace, CPU per image | x older commit (same concurrency) |")


def table(runs: Sequence[RunSummary]) -> str:
    """One row per system and workers: medians (ranges) over the repeats and the ratios within each repeat."""
    keys = list(dict.fromkeys(_key(r) for r in runs))
    labels = [label for label, _ in keys]
    lines = [HEADER, "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for key in keys:
        rows = [r for r in runs if _key(r) == key]
        first = rows[0]
        older = baseline_of(key[0], labels)
        cells = [key[0], str(key[1]), str(first.images), str(first.faces),
                 _spread([r.images_per_s for r in rows], 2), _spread([r.p(50) for r in rows], 0),
                 _spread([r.p(95) for r in rows], 0), _spread([r.cpu_ms_per_image for r in rows], 0),
                 ", ".join(f"{k} {_fmt(v)}" for k, v in first.per_face_ms.items()),
                 _fmt(statistics.median(r.rss_mb for r in rows), 0),
                 _spread(ratios(runs, key, FACE_RECOGNITION_2), 2), _spread(ratios(runs, key, INSIGHTFACE_2), 2),
                 _spread(ratios(runs, key, INSIGHTFACE_2, cpu=True), 2),
                 _spread(ratios(runs, key, (older, key[1])), 2) if older else "-"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def commit_of(checkout: Path) -> str:
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False)
    return done.stdout.strip() or checkout.name


def insightface_service(work_dir: Path, env_text: str = INSIGHTFACE_ENV) -> ServiceConfig:
    """The service on the ONNX files InsightFace's package gets (prepared under ``work_dir``), with ``env_text``
    (``KEY=VALUE;...``) as its runtime settings."""
    from tools.benchmarks.peer_models import prepare

    models = prepare(work_dir)
    extra = dict(item.strip().split("=", 1) for item in env_text.split(";") if item.strip())
    name = "SCRFD-500M + MobileFace v2" + (f" [{env_text}]" if extra else "")
    return insightface_config(models.models_root, models.detector, models.calculator, extra, name)


def service_configs(args: argparse.Namespace) -> list[ServiceConfig]:
    configs = []
    for key in (k.strip() for k in args.configs.split(",") if k.strip()):
        if key == "insightface":
            configs.append(insightface_service(args.work_dir, args.insightface_env))
        elif key == "baseline":
            if args.baseline is None or not (args.baseline / ".venv" / "bin" / "uwsgi").exists():
                raise SystemExit("--configs baseline needs --baseline PATH: a checkout with a .venv holding uwsgi")
            configs.append(checkout_config(args.baseline.resolve(), commit_of(args.baseline)))
        else:
            configs.append(CONFIGS[key])
    return configs


def run_peers(args: argparse.Namespace, photos: list[Path], repeat: int) -> list[RunSummary]:
    names = [] if args.skip_library else [n.strip() for n in args.peers.split(",") if n.strip() not in ("", "none")]
    runs = []
    for name in names:
        peer = PEERS[name]
        python = ensure_venv(peer, args.bench_venvs)
        for procs in args.library_procs:
            if peer is FACE_RECOGNITION:
                for upsample in args.library_upsample:
                    log.info("face_recognition: %d process(es), upsample %d", procs, upsample)
                    runs.append(run_library(python, photos, procs, upsample, args.rounds))
            else:
                from tools.benchmarks.peer_models import prepare

                models = prepare(args.work_dir)
                log.info("insightface: %d process(es)", procs)
                runs.append(run_peer(INSIGHTFACE, python, photos, procs, args.rounds,
                                     {"model_dir": models.onnx_dir, "threads": args.insightface_threads},
                                     INSIGHTFACE_2[0]))
    for run in runs:
        run.extra["repeat"] = repeat
    return runs


def run_services(args: argparse.Namespace, configs: Sequence[ServiceConfig], photos: list[Path], repeat: int,
                 startups: dict[str, list[float]]) -> list[RunSummary]:
    runs = []
    for config in configs:
        log_path = args.work_dir / f"uwsgi-{config.name.replace(' ', '_').replace('@', 'at')}.log"
        with Service(config, args.processes, args.threads, log_path, extra_args=args.uwsgi_args.split()) as service:
            startups.setdefault(config.name, []).append(service.startup_s)
            log.info("service %s ready in %.1f s on port %d", config.name, service.startup_s, service.port)
            for concurrency in args.concurrency:
                label = f"service {config.name} ({args.processes}p x {args.threads}t{' ' * bool(args.uwsgi_args)}" \
                    f"{args.uwsgi_args})"
                run = load(service, photos, concurrency, args.rounds, label)
                run.extra["repeat"] = repeat
                runs.append(run)
    return runs


def run_all(args: argparse.Namespace) -> tuple[list[RunSummary], dict[str, list[float]]]:
    sources = list(args.photos) if args.photos else image_list.pick(args.image_dir, args.images)
    if not sources:
        raise SystemExit(f"no photos in {args.image_dir}")
    photos = image_list.shrink_to(sources, args.work_dir / "images", args.max_side)
    configs = [] if args.skip_service else service_configs(args)
    runs: list[RunSummary] = []
    startups: dict[str, list[float]] = {}
    for repeat in range(args.repeats):
        log.info("repeat %d of %d", repeat + 1, args.repeats)
        runs += run_peers(args, photos, repeat)
        runs += run_services(args, configs, photos, repeat, startups)
    return runs, startups


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    runs, startups = run_all(args)
    out = [table(runs), ""]
    out += [f"start-up to ready ({args.processes} workers, models loaded and warmed): {name} "
            f"{_spread(seconds, 1)} s" for name, seconds in startups.items()]
    what = (f"{len(args.photos)} given photo(s)" if args.photos else f"{args.images} photos from {args.image_dir}")
    size = f"shrunk to {args.max_side} px" if args.max_side > 0 else "as they are"
    out.append(f"{what} {size}, {args.rounds} round(s), {args.repeats} interleaved repeat(s); "
               f"{os.cpu_count()} CPUs, load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
               f"total {time.perf_counter() - started:.0f} s")
    sys.stdout.write("\n".join(out) + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"runs": [r.as_dict() for r in runs], "startup_s": startups,
                                         "table": out, "args": {k: str(v) for k, v in vars(args).items()},
                                         "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}},
                                        indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
