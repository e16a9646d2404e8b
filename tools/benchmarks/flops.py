"""The floor: FLOPs of each model per unit of work, and the fastest time this CPU's sgemm rate allows.

``python -m tools.benchmarks.flops [--measure] [--openvino] [--json out.json]``. With ``--measure`` each model
also runs in ONNX Runtime (1 intra-op thread, batch 8 for per-face models) and the table shows measured / floor;
``--openvino`` adds the same measurement in OpenVINO (f32, 1 thread), right after ONNX Runtime's on each model.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
import onnx

from tools.benchmarks.floor_models import FloorModel, ModelUnavailable, catalogue
from tools.benchmarks.onnx_flops import FlopCount, count_flops
from tools.benchmarks.sgemm import GemmRate, measure_sgemm

log = logging.getLogger(__name__)


@dataclass
class FloorRow:
    name: str
    unit: str
    mflops: float | None  # per unit
    floor_ms_1t: float | None
    floor_ms_2t: float | None
    measured_ms_1t: float | None = None
    note: str = ""
    openvino_ms_1t: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.measured_ms_1t is None or not self.floor_ms_1t:
            return None
        return self.measured_ms_1t / self.floor_ms_1t

    @property
    def openvino_ratio(self) -> float | None:
        if self.openvino_ms_1t is None or not self.floor_ms_1t:
            return None
        return self.openvino_ms_1t / self.floor_ms_1t


def unit_flops(model: onnx.ModelProto, runs: Sequence[dict[str, tuple[int, ...]]]) -> FlopCount:
    total = FlopCount()
    for shapes in runs:
        one = count_flops(model, shapes)
        for op, flops in one.by_op.items():
            total.by_op[op] = total.by_op.get(op, 0) + flops
        total.uncounted.update(one.uncounted)
    return total


def measure_ms(model: onnx.ModelProto, runs: Sequence[dict[str, tuple[int, ...]]], batch: int,
               repeats: int = 5, openvino: bool = False) -> float:
    """Median ms per unit in ONNX Runtime (or OpenVINO f32) with one thread (the floor's 1-thread rate is the peer).

    The session is opened directly, not with facecore.onnx_session, so that the thread count is fixed here; its
    weights are flushed as facecore.onnx_session does."""
    import onnxruntime as ort

    from facecore.inference_runtime import F32, OpenVinoSession
    from facecore.onnx_session import flush_subnormal_weights

    flush_subnormal_weights(model)

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = OpenVinoSession(model.SerializeToString(), "CPU", 1, F32) if openvino else \
        ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = [{name: rng.uniform(0, 255, (batch, *shape[1:])).astype(np.float32) for name, shape in run.items()}
             for run in runs]
    for feed in feeds:  # warm-up: allocations and kernel selection
        session.run(None, feed)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for feed in feeds:
            session.run(None, feed)
        times.append((time.perf_counter() - started) * 1000.0 / batch)
    return statistics.median(times)


def floor_rows(models: Sequence[FloorModel], rates: dict[int, GemmRate], measure: bool,
               openvino: bool = False) -> list[FloorRow]:
    rows = []
    for item in models:
        try:
            model = item.build()
        except ModelUnavailable as error:
            rows.append(FloorRow(item.name, item.unit, None, None, None, note=f"skipped: {error}"))
            continue
        runs = item.runs()
        flops = unit_flops(model, runs).total
        row = FloorRow(item.name, item.unit, flops / 1e6, flops / (rates[1].gflops * 1e6),
                       flops / (rates[2].gflops * 1e6), note=item.note)
        batch = 8 if item.unit != "image" else 1
        if measure:
            row.measured_ms_1t = measure_ms(model, runs, batch)
        if openvino:
            row.openvino_ms_1t = measure_ms(model, runs, batch, openvino=True)
        rows.append(row)
    return rows


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def markdown(rows: Sequence[FloorRow], rates: dict[int, GemmRate]) -> str:
    lines = [f"sgemm float32 {rates[1].size}x{rates[1].size}: {rates[1].gflops:.1f} GFLOP/s (1 thread), "
             f"{rates[2].gflops:.1f} GFLOP/s (2 threads)", "",
             "| model | per | MFLOPs | floor ms (1 thread) | floor ms (2 threads) | ORT ms (1 thread) | ORT / floor "
             "| OpenVINO ms (1 thread) | OpenVINO / floor | note |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.unit} | {_fmt(r.mflops, 1)} | {_fmt(r.floor_ms_1t)} | {_fmt(r.floor_ms_2t)} | "
                     f"{_fmt(r.measured_ms_1t)} | {_fmt(r.ratio, 1)} | {_fmt(r.openvino_ms_1t)} | "
                     f"{_fmt(r.openvino_ratio, 1)} | {r.note} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.benchmarks.flops", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", action="store_true", help="also time each model in ONNX Runtime (1 thread)")
    parser.add_argument("--openvino", action="store_true", help="also time each model in OpenVINO f32 (1 thread)")
    parser.add_argument("--image", default="640x480", help="detector image size WxH for P-Net (default 640x480)")
    parser.add_argument("--gemm-size", type=int, default=1024, help="square sgemm size (default 1024)")
    parser.add_argument("--json", help="also write the rows and rates to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    width, height = (int(v) for v in args.image.lower().split("x"))
    rates = {t: measure_sgemm(t, args.gemm_size) for t in (1, 2)}
    rows = floor_rows(catalogue(width, height), rates, args.measure, args.openvino)
    sys.stdout.write(markdown(rows, rates) + "\n")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump({"sgemm": {t: asdict(r) for t, r in rates.items()},
                       "rows": [{**asdict(r), "ratio": r.ratio, "openvino_ratio": r.openvino_ratio} for r in rows]},
                      out, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
