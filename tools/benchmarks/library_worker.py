"""The `face_recognition` library in-process, run by ``compare`` in the benchmark's own virtual environment.

Standalone on purpose (stdlib + face_recognition only): that environment has no project code. Each of
``--procs`` processes loads the models, warms up on the first image, then all start together and take
images from one queue. Per image: decode the JPEG bytes, HOG-detect (``--upsample``), 5-point landmarks and
the ResNet encoding of every face, as ``face_recognition.face_encodings`` does by default. Prints one JSON
object: wall time, per-image latencies and face counts, and each process's RSS.
"""
from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import resource
import sys
import time


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def process_image(face_recognition, data: bytes, upsample: int) -> tuple[int, float, float]:
    started = time.perf_counter()
    image = face_recognition.load_image_file(io.BytesIO(data))
    boxes = face_recognition.face_locations(image, number_of_times_to_upsample=upsample, model="hog")
    detected = time.perf_counter()
    face_recognition.face_encodings(image, boxes)
    done = time.perf_counter()
    return len(boxes), (detected - started) * 1000.0, (done - detected) * 1000.0


def worker(paths: list[str], upsample: int, start: mp.Barrier, jobs: mp.Queue, results: mp.Queue) -> None:
    import face_recognition  # loads the models (face_recognition_models) at import

    images = []
    for path in paths:
        with open(path, "rb") as handle:
            images.append(handle.read())
    process_image(face_recognition, images[0], upsample)  # warm-up, untimed
    start.wait()
    while True:
        index = jobs.get()
        if index is None:
            break
        started = time.perf_counter()
        faces, detect_ms, encode_ms = process_image(face_recognition, images[index], upsample)
        results.put(("image", index, (time.perf_counter() - started) * 1000.0, faces, detect_ms, encode_ms))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    results.put(("rss", rss_mb(), peak))


def run(paths: list[str], procs: int, upsample: int, rounds: int) -> dict:
    ctx = mp.get_context("spawn")  # each process loads its own models, like separate programs
    start = ctx.Barrier(procs + 1)
    jobs, results = ctx.Queue(), ctx.Queue()
    workers = [ctx.Process(target=worker, args=(paths, upsample, start, jobs, results)) for _ in range(procs)]
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
            rss.append({"rss_mb": values[0], "peak_rss_mb": values[1]})
    for process in workers:
        process.join(timeout=60)
    return {"procs": procs, "upsample": upsample, "wall_s": wall, "images": images, "processes": rss}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--procs", type=int, default=1)
    parser.add_argument("--upsample", type=int, default=1, help="face_locations' number_of_times_to_upsample")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("images", nargs="+")
    args = parser.parse_args(argv)
    json.dump(run(args.images, args.procs, args.upsample, args.rounds), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
