"""The in-process peers' common harness: N spawned processes take images from one queue (stdlib only).

Each peer worker (``library_worker.py`` for face_recognition, ``insightface_worker.py``) runs as a script in
its own virtual environment, where the project is not importable: it imports this module as a sibling (the
script's folder is on ``sys.path``). Each process builds its processor (loads the models), warms up on the first
image, then all start together. A processor maps JPEG bytes to (faces, detect ms, encode ms). Output: one JSON
object (wall time, per-image latencies and face counts, each process's RSS).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time
from typing import Any, Callable

Processor = Callable[[bytes], "tuple[int, float, float]"]
#: module-level (so spawn can pickle it): options -> processor, called once in each process
MakeProcessor = Callable[[dict], Processor]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def worker(paths: list[str], make: MakeProcessor, options: dict, start: Any, jobs: Any, results: Any) -> None:
    process = make(options)
    images = []
    for path in paths:
        with open(path, "rb") as handle:
            images.append(handle.read())
    process(images[0])  # warm-up, untimed
    start.wait()
    cpu_started = time.process_time()
    while True:
        index = jobs.get()
        if index is None:
            break
        started = time.perf_counter()
        faces, detect_ms, encode_ms = process(images[index])
        results.put(("image", index, (time.perf_counter() - started) * 1000.0, faces, detect_ms, encode_ms))
    cpu_s = time.process_time() - cpu_started  # every thread of this process, the library's own pools too
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    results.put(("rss", rss_mb(), peak, cpu_s))


def run(paths: list[str], procs: int, rounds: int, make: MakeProcessor, options: dict) -> dict:
    ctx = mp.get_context("spawn")  # each process loads its own models, like separate programs
    start = ctx.Barrier(procs + 1)
    jobs, results = ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=worker, args=(paths, make, options, start, jobs, results)) for _ in range(procs)]
    for process in workers:
        process.start()
    order = [i for _ in range(rounds) for i in range(len(paths))]
    for index in order:
        jobs.put(index)
    for _ in workers:
        jobs.put(None)
    start.wait(timeout=300)
    started = time.perf_counter()
    images, rss, wall = [], [], float("nan")
    while len(images) < len(order) or len(rss) < procs:
        kind, *values = results.get(timeout=600)
        if kind == "image":
            index, latency, faces, detect_ms, encode_ms = values
            images.append({"image": paths[index], "latency_ms": latency, "faces": faces,
                           "detect_ms": detect_ms, "encode_ms": encode_ms})
            if len(images) == len(order):
                wall = time.perf_counter() - started
        else:
            rss.append({"rss_mb": values[0], "peak_rss_mb": values[1], "cpu_s": values[2]})
    for process in workers:
        process.join(timeout=60)
    return {"procs": procs, "wall_s": wall, "images": images, "processes": rss, **options}


def main(description: str, make: MakeProcessor, add_options: Callable[[argparse.ArgumentParser], None],
         argv: list[str] | None = None) -> int:
    """A worker script's command line: ``--procs --rounds [peer options] images...``; prints the JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1)
    add_options(parser)
    parser.add_argument("images", nargs="+")
    args = vars(parser.parse_args(argv))
    paths, procs, rounds = args.pop("images"), args.pop("procs"), args.pop("rounds")
    json.dump(run(paths, procs, rounds, make, args), sys.stdout)
    return 0
