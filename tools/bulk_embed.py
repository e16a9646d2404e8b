"""Embed every face of a large image collection on Ray Data, writing Parquet shards; resumable.

    python -m tools.bulk_embed photos/ out/                        # a folder (recursive), local Ray
    python -m tools.bulk_embed paths.txt out/ --actors 4           # one path or URI (s3://, gs://...) a line
    python -m tools.bulk_embed manifest.parquet out/ --address auto   # column path (or uri), optional image_id

Stages: read the bytes (Ray tasks), then decode, detect and embed in a pool of actors, each running the
service's own pipeline (models loaded once per actor; ``--gpus-per-actor`` or GPU_IDX >= 0 puts actors on
GPUs). Output: ``out/shard-00000.parquet`` ... one row per face: image_id, uri, face_index, box (x_min, y_min,
x_max, y_max), probability, embedding, model, similarity_coefficients, error. An image with no face has one row
with face_index -1; a file that cannot be read or decoded has one row with its error: the job goes on.
A shard is written whole (atomically) once all its images are done; a rerun skips finished shards
(``out/job.json`` pins the image list and shard size, so a rerun with other inputs is refused).
For a few thousand images, ``tools.export_embeddings`` (one process, HDF5 per identity) is simpler.
Exit code: 0 done (bad files recorded), 1 a job error, 2 bad usage.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from tools.common.images import list_images
from tools.common.progress import progress
from tools.common.quality import add_min_quality_arg, good_enough, quality_extras, slugs_with_quality
from tools.common.service import add_pipeline_args, parse_tool_args, settings_from_args, tool_parser

#: the settings an actor's pipeline is built from (the driver's, passed explicitly: cluster nodes have their own env)
SETTING_NAMES = ("FACE_DETECTION_PLUGIN", "CALCULATION_PLUGIN", "IMG_LENGTH_LIMIT", "DET_PROB_THRESHOLD",
                 "MODELS_ROOT", "MODELS_OFFLINE", "MAX_IMAGE_PIXELS", "MAX_IMAGE_FRAMES", "LOGGING_LEVEL_NAME")
NO_FACE = -1
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Item:
    image_id: str
    uri: str


# ------------------------------------------------------------------------------------------------ sources
def read_source(source: str) -> list[Item]:
    """The images of a folder, a text list (one path/URI a line) or a Parquet manifest, in a stable order."""
    path = Path(source)
    if path.is_dir():
        return [Item(str(p.relative_to(path)), str(p.resolve())) for p in list_images([path])]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path).to_pydict()
        column = "path" if "path" in table else "uri"
        if column not in table:
            raise ValueError(f"{path}: a manifest needs a 'path' or 'uri' column (has {sorted(table)})")
        ids = table.get("image_id", table[column])
        return [Item(str(i), str(u)) for i, u in zip(ids, table[column])]
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [Item(line, line if "://" in line else str((path.parent / line).resolve()))
            for line in lines if line and not line.startswith("#")]


def shards_of(items: Sequence[Item], shard_size: int) -> list[list[Item]]:
    return [list(items[i:i + shard_size]) for i in range(0, len(items), shard_size)]


def shard_path(out: Path, index: int) -> Path:
    return out / f"shard-{index:05d}.parquet"


def pin_job(out: Path, items: Sequence[Item], shard_size: int) -> None:
    """Record the job in ``out/job.json``; refuse to resume a different one (shards would not line up)."""
    digest = hashlib.sha256("\n".join(f"{i.image_id}\t{i.uri}" for i in items).encode()).hexdigest()
    job = {"images": len(items), "shard_size": shard_size, "sha256": digest}
    pinned = out / "job.json"
    if pinned.exists():
        old = json.loads(pinned.read_text())
        if old != job:
            raise ValueError(f"{out} holds another job ({old}); use a new folder or the same inputs")
        return
    out.mkdir(parents=True, exist_ok=True)
    pinned.write_text(json.dumps(job, indent=1) + "\n")


# ------------------------------------------------------------------------------------------------ stages
def read_bytes(row: dict[str, Any]) -> dict[str, Any]:
    """Ray task: the file's bytes, or the error that stopped reading it."""
    try:
        if "://" in row["uri"]:
            import pyarrow.fs

            filesystem, inner = pyarrow.fs.FileSystem.from_uri(row["uri"])
            with filesystem.open_input_stream(inner) as stream:
                row["data"] = stream.read()
        else:
            row["data"] = Path(row["uri"]).read_bytes()
        row["error"] = ""
    except (OSError, ValueError) as error:
        row["data"], row["error"] = b"", f"read: {error}"
    return row


def output_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("shard", pa.int32()), ("image_id", pa.string()), ("uri", pa.string()),
                      ("face_index", pa.int32()), ("x_min", pa.int32()), ("y_min", pa.int32()),
                      ("x_max", pa.int32()), ("y_max", pa.int32()), ("probability", pa.float32()),
                      ("embedding", pa.list_(pa.float32())), ("model", pa.string()),
                      ("similarity_coefficients", pa.list_(pa.float64())), ("error", pa.string())])


class FaceEmbedder:
    """Ray actor: the service's pipeline (detector + calculator), loaded once, applied to batches of images."""

    def __init__(self, settings_env: dict[str, str], min_quality: float | None = None) -> None:
        from facecore.config import load_settings
        from facecore.imaging import DecodeLimits
        from tools.common.service import build

        self.min_quality = min_quality
        settings = load_settings(settings_env).with_overrides(extras=quality_extras(min_quality))
        self.pipeline = build(settings)
        self.limits = DecodeLimits(settings.max_pixels, settings.max_frames)
        self.threshold = settings.det_prob_threshold
        self.model = str(self.pipeline.calculator)
        self.coefficients = list(self.pipeline.calculator.similarity_coefficients)

    def __call__(self, batch: dict[str, Any]) -> Any:
        import pyarrow as pa

        rows: list[dict[str, Any]] = []
        for shard, image_id, uri, data, error in zip(batch["shard"], batch["image_id"], batch["uri"], batch["data"],
                                                     batch["error"]):
            base = {"shard": int(shard), "image_id": str(image_id), "uri": str(uri), "model": self.model,
                    "similarity_coefficients": self.coefficients}
            rows.extend({**base, **face} for face in self.faces(bytes(data), str(error)))
        return pa.Table.from_pylist(rows, schema=output_schema())

    def faces(self, data: bytes, error: str) -> list[dict[str, Any]]:
        from facecore.imaging import decode_image
        from tools.common.service import local_find_faces

        if error:
            return [{"face_index": NO_FACE, "error": error}]
        try:
            slugs = slugs_with_quality(("calculator",), self.min_quality)
            body = local_find_faces(self.pipeline, decode_image(data, self.limits), slugs, self.threshold)
        except Exception as failure:  # noqa: BLE001 - a bad file is recorded, the job goes on
            return [{"face_index": NO_FACE, "error": f"{type(failure).__name__}: {failure}"}]
        # a face under --min-quality is left out; the others keep their index in the detector's order
        kept = [(index, face) for index, face in enumerate(body["result"]) if good_enough(face, self.min_quality)]
        if not kept:
            return [{"face_index": NO_FACE, "error": None}]
        return [{"face_index": index, **{k: face["box"][k] for k in ("x_min", "y_min", "x_max", "y_max")},
                 "probability": face["box"]["probability"], "embedding": face["embedding"], "error": None}
                for index, face in kept]


# ------------------------------------------------------------------------------------------------ the job
@dataclass
class JobOptions:
    actors: int = 1
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0
    batch_size: int = 8
    min_quality: float | None = None


def settings_env(args: argparse.Namespace, cpus_per_actor: float) -> dict[str, str]:
    """The driver's settings (environment + command line) as the environment an actor builds its pipeline from."""
    settings = settings_from_args(args)
    env = {name: os.environ[name] for name in SETTING_NAMES if name in os.environ}
    env.update(FACE_DETECTION_PLUGIN=settings.detector, CALCULATION_PLUGIN=settings.calculator, EXTRA_PLUGINS="",
               IMG_LENGTH_LIMIT=str(settings.img_length_limit), GPU_IDX=str(settings.gpu_idx),
               ONNX_THREADS=str(max(int(cpus_per_actor), 1)), MODELS_ROOT=str(settings.models_root))
    if settings.det_prob_threshold is not None:
        env["DET_PROB_THRESHOLD"] = str(settings.det_prob_threshold)
    return env


def embedded_tables(pending: dict[int, list[Item]], env: dict[str, str], options: JobOptions) -> Iterator[Any]:
    """Ray Data: read (tasks) -> decode, detect, embed (actor pool); yields Arrow tables of face rows."""
    import ray

    rows = [{"shard": shard, "image_id": item.image_id, "uri": item.uri}
            for shard, items in sorted(pending.items()) for item in items]
    dataset = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), 8 * options.actors)))
    # Reading is I/O: it takes no CPU slot, so actors holding every CPU cannot starve it.
    dataset = dataset.map(read_bytes, num_cpus=0)
    kwargs = {"settings_env": env, "min_quality": options.min_quality}
    dataset = dataset.map_batches(FaceEmbedder, fn_constructor_kwargs=kwargs,
                                  batch_size=options.batch_size, batch_format="numpy", concurrency=options.actors,
                                  num_cpus=options.cpus_per_actor, num_gpus=options.gpus_per_actor or None)
    yield from dataset.iter_batches(batch_format="pyarrow", batch_size=None)


def write_shard(path: Path, tables: list[Any]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables(tables).sort_by([("image_id", "ascending"), ("face_index", "ascending")])
    partial = path.with_suffix(".parquet.part")
    pq.write_table(table.drop_columns(["shard"]), partial)
    os.replace(partial, path)
    return table.num_rows


def run_job(items: Sequence[Item], out: Path, shard_size: int, env: dict[str, str], options: JobOptions) -> dict:
    """Embed the images of the unfinished shards; returns counts (shards skipped/written, faces, errors)."""
    pin_job(out, items, shard_size)
    shards = shards_of(items, shard_size)
    pending = {i: s for i, s in enumerate(shards) if not shard_path(out, i).exists()}
    summary = {"shards": len(shards), "skipped": len(shards) - len(pending), "written": 0, "faces": 0, "errors": 0}
    if not pending:
        return summary
    tables: dict[int, list[Any]] = defaultdict(list)
    done: dict[int, set[str]] = defaultdict(set)
    bar = iter(progress(range(len(pending)), "shards"))
    for table in embedded_tables(pending, env, options):
        for shard in set(table.column("shard").to_pylist()):
            part = table.filter(table.column("shard").to_numpy() == shard)
            tables[shard].append(part)
            done[shard].update(part.column("image_id").to_pylist())
            if len(done[shard]) == len(pending[shard]):
                write_shard(shard_path(out, shard), tables.pop(shard))
                summary["written"] += 1
                next(bar, None)
        summary["faces"] += sum(1 for i in table.column("face_index").to_pylist() if i >= 0)
        summary["errors"] += sum(1 for e in table.column("error").to_pylist() if e)
    missing = sorted(set(pending) - {i for i in pending if shard_path(out, i).exists()})
    if missing:
        raise RuntimeError(f"shards {missing} did not receive all their images")
    return summary


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = tool_parser("python -m tools.bulk_embed", __doc__)
    parser.add_argument("source", help="a folder of images, a text file of paths/URIs, or a Parquet manifest")
    parser.add_argument("out", type=Path, help="folder for the Parquet shards (created; reruns resume)")
    parser.add_argument("--address", help="an existing Ray cluster (e.g. auto, ray://head:10001); default: local Ray")
    parser.add_argument("--num-cpus", type=int, help="CPUs of the local Ray (default: all)")
    parser.add_argument("--actors", type=int, default=1, help="pipeline actors (one model load each)")
    parser.add_argument("--cpus-per-actor", type=float, default=1.0)
    parser.add_argument("--gpus-per-actor", type=float, help="default 1 when GPU_IDX/--gpu >= 0, else 0")
    parser.add_argument("--shard-size", type=int, default=1000, help="images per output shard")
    parser.add_argument("--batch-size", type=int, default=8, help="images per actor call")
    parser.add_argument("--verbose", action="store_true")
    add_min_quality_arg(parser)
    add_pipeline_args(parser)
    return parse_tool_args(parser, argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import ray
    except ImportError:
        print("error: needs Ray Data: pip install 'face-core[ray]'", file=sys.stderr)
        return 2
    try:
        items = read_source(args.source)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if not items or args.shard_size < 1 or args.actors < 1:
        print("error: no images, or --shard-size/--actors below 1", file=sys.stderr)
        return 2
    env = settings_env(args, args.cpus_per_actor)
    gpus = args.gpus_per_actor if args.gpus_per_actor is not None else (1.0 if int(env["GPU_IDX"]) >= 0 else 0.0)
    if gpus:
        env["GPU_IDX"] = "0"  # Ray gives each GPU actor its own device as CUDA_VISIBLE_DEVICES
    options = JobOptions(args.actors, args.cpus_per_actor, gpus, args.batch_size, args.min_quality)
    ray.init(address=args.address, num_cpus=None if args.address else args.num_cpus, include_dashboard=False,
             logging_level="WARNING", log_to_driver=args.verbose)
    started = time.perf_counter()
    try:
        summary = run_job(items, args.out, args.shard_size, env, options)
        summary["seconds"] = round(time.perf_counter() - started, 1)  # actor start and model loads included
    except (RuntimeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    finally:
        ray.shutdown()
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
