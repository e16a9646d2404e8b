"""The service against itself at an older commit, one request at a time, alternated: what a small change is worth.

    python -m tools.benchmarks.service_ab OLD_CHECKOUT [--config default|insightface] [--image-dir DIR]
        [--images 20] [--max-side 0] [--rounds 4]

OLD_CHECKOUT is a worktree of the older commit (``git worktree add ../old COMMIT``). It runs on this checkout's
virtual environment with its own code first on the path (uWSGI's ``--pythonpath``), so only the code differs.
Both services run at once (2 workers each) and each photo goes to one, then to the other, the order swapped
every round: nothing else runs while either answers, and a machine that speeds up or slows down does so for
both. A throughput run cannot show a change of a few per cent on a shared machine (its rounds differ by more);
this can. Prints each plugin's mean time per photo (the responses' ``execution_time``), the median latency,
and the old/new ratio of each plugin's time per photo (median over the photos and rounds).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from tools.benchmarks import PROJECT_ROOT, SHARED
from tools.benchmarks.compare import insightface_service
from tools.benchmarks.images import pick, shrink_to
from tools.benchmarks.service import CONFIGS, Service, ServiceConfig, Upload, post


def config_of(name: str, work_dir: Path) -> ServiceConfig:
    """``insightface``: the files and runtimes of the InsightFace comparison (./benchmark.sh targets)."""
    return insightface_service(work_dir) if name == "insightface" else CONFIGS[name]


def photo_times(body: dict) -> dict[str, float]:
    """Each plugin's time for the whole photo: the sum of its per-face ``execution_time``."""
    times: dict[str, float] = {}
    for face in body.get("result", []):
        for plugin, ms in face.get("execution_time", {}).items():
            times[plugin] = times.get(plugin, 0.0) + float(ms)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.service_ab", description=__doc__.split("\n")[0])
    parser.add_argument("old", type=Path, help="a checkout of the older commit")
    parser.add_argument("--config", choices=[*CONFIGS, "insightface"], default="default")
    parser.add_argument("--image-dir", type=Path, default=SHARED / "datasets" / "deepface")
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--max-side", type=int, default=0, help="shrink the photos first (0: as they are)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--work-dir", type=Path, default=PROJECT_ROOT / ".cache" / "bench")
    args = parser.parse_args(argv)
    old_root = args.old.resolve()
    if not (old_root / "uwsgi.ini").exists():
        raise SystemExit(f"{old_root}: not a checkout of this project (no uwsgi.ini)")
    config = config_of(args.config, args.work_dir)
    photos = shrink_to(pick(args.image_dir, args.images), args.work_dir / "images", args.max_side)
    uploads = [Upload.of(p.name, p.read_bytes()) for p in photos]
    query = urlencode({"face_plugins": config.face_plugins})
    logs = Path(tempfile.mkdtemp(prefix="service-ab-"))
    services = {
        "new": Service(config, 2, 1, logs / "new.log"),
        "old": Service(ServiceConfig(f"{config.name} @ {old_root.name}", config.env, config.face_plugins, old_root),
                       2, 1, logs / "old.log", venv=PROJECT_ROOT / ".venv", extra_args=["--pythonpath", str(old_root)]),
    }
    times: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
    latency: dict[str, list[float]] = {"old": [], "new": []}
    with services["new"], services["old"]:
        for service in services.values():
            for upload in uploads:
                post(service, upload, query)
        for round_index in range(args.rounds):
            order = ("old", "new") if round_index % 2 == 0 else ("new", "old")
            for upload in uploads:
                for label in order:
                    started = time.perf_counter()
                    status, body = post(services[label], upload, query)
                    if status != 200:
                        raise SystemExit(f"{label}: {upload.name} answered {status}: {body}")
                    latency[label].append((time.perf_counter() - started) * 1000)
                    times[label].append(photo_times(body))
    plugins = sorted({plugin for row in times["new"] for plugin in row})
    print(f"{config.name}: {len(uploads)} photos from {args.image_dir}"
          f"{f' shrunk to {args.max_side} px' if args.max_side else ''}, {args.rounds} rounds, old = {old_root}")
    print("| plugin | old ms per photo | new ms per photo | old / new (median, range of the middle 80 %) |")
    print("|---|---:|---:|---:|")
    for plugin in plugins:
        old = [row.get(plugin, 0.0) for row in times["old"]]
        new = [row.get(plugin, 0.0) for row in times["new"]]
        ratios = sorted(a / b for a, b in zip(old, new) if a > 0 and b > 0)
        middle = ratios[len(ratios) // 10: len(ratios) - len(ratios) // 10] or ratios
        spread = f"{statistics.median(ratios):.2f} ({middle[0]:.2f}-{middle[-1]:.2f})" if ratios else "-"
        print(f"| {plugin} | {statistics.mean(old):.1f} | {statistics.mean(new):.1f} | {spread} |")
    print(f"| latency (client) | {statistics.median(latency['old']):.1f} | {statistics.median(latency['new']):.1f} "
          f"| {statistics.median(latency['old']) / statistics.median(latency['new']):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
