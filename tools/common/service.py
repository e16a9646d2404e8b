"""One way to ask for faces, locally (the service's own Pipeline) or from a running service over HTTP.

Both return the service's JSON (``{"plugins_versions": ..., "result": [...]}``), so a tool never has a
second implementation of what the service does.
"""
from __future__ import annotations

import argparse
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from facecore.config import Settings, load_settings, split_list
from facecore.device import Device
from facecore.errors import NoFaceFound
from facecore.pipeline import Pipeline

ALL_SLUGS = ("calculator", "age", "gender", "landmarks", "pose")


def tool_parser(prog: str, doc: str) -> argparse.ArgumentParser:
    """A tool's parser: the first line of its docstring ``doc`` as description, the whole docstring as epilog."""
    return argparse.ArgumentParser(prog=prog, description=doc.split("\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)


def add_service_args(parser: argparse.ArgumentParser) -> None:
    """``--remote``, ``--verbose`` and the pipeline overrides: what every tool asking the service for faces takes."""
    parser.add_argument("--remote", help="URL of a running service (default: USE_REMOTE=true + ML_URL)")
    parser.add_argument("--verbose", action="store_true")
    add_pipeline_args(parser)


def add_pipeline_args(parser: argparse.ArgumentParser, detector: bool = True, calculator: bool = True) -> None:
    """The options that override the service's environment settings for this run."""
    group = parser.add_argument_group("pipeline (defaults: the service's environment variables)")
    if detector:
        group.add_argument("--detector", help="FACE_DETECTION_PLUGIN, e.g. dlib.FaceDetector@hog")
        group.add_argument("--det-prob-threshold", dest="threshold", type=float, help="DET_PROB_THRESHOLD")
        group.add_argument("--img-length-limit", type=int, help="IMG_LENGTH_LIMIT (0 = never shrink)")
    if calculator:
        group.add_argument("--calculator", help="CALCULATION_PLUGIN, e.g. dlib.Calculator")
    group.add_argument("--extras", help="EXTRA_PLUGINS, comma separated ('' = none)")
    group.add_argument("--gpu", type=int, help="GPU_IDX (-1 = CPU)")


def settings_from_args(args: argparse.Namespace, **forced: Any) -> Settings:
    """The environment's settings with the command line's overrides (and ``forced`` ones) applied."""
    settings = load_settings()
    changes: dict[str, Any] = {}
    for option, field in (("detector", "detector"), ("calculator", "calculator"), ("gpu", "gpu_idx"),
                          ("threshold", "det_prob_threshold"), ("img_length_limit", "img_length_limit")):
        value = getattr(args, option, None)
        if value is not None:
            changes[field] = value
    if getattr(args, "extras", None) is not None:
        changes["extras"] = split_list(args.extras)
    changes.update(forced)
    return settings.with_overrides(**changes)


def parse_tool_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv`` and set the log level from ``--verbose`` (else LOGGING_LEVEL_NAME, default warning)."""
    args = parser.parse_args(argv)
    quiet_logs(getattr(args, "verbose", False))
    return args


def quiet_logs(verbose: bool = False) -> None:
    level = logging.DEBUG if verbose else getattr(logging, os.environ.get("LOGGING_LEVEL_NAME", "warning").upper(),
                                                  logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def build(settings: Settings) -> Pipeline:
    """The service's pipeline, created, loaded and warmed exactly as the HTTP service does it."""
    from facecore.app import build_pipeline

    return build_pipeline(settings)


def build_detector_only(settings: Settings, device: Device | None = None) -> Pipeline:
    """The service's pipeline with only its detector loaded (on ``device``, else the settings' device): for tools
    that never ask a face plugin."""
    from facecore.model_store import ModelStore
    from facecore.pipeline import load_plugin
    from facecore.plugin_manager import PluginRegistry, build_plugin_manager

    registry = PluginRegistry.from_manager(build_plugin_manager())
    pipeline = Pipeline.from_settings(settings.with_overrides(extras=()), registry)
    store = ModelStore(settings.models_root, offline=settings.models_offline)
    load_plugin(pipeline.detector, store, device or settings.device)
    pipeline.ready = True
    return pipeline


def local_find_faces(pipeline: Pipeline, image: np.ndarray, slugs: Sequence[str] = ALL_SLUGS,
                     threshold: float | None = None, limit: int = 0, detect_faces: bool = True) -> dict[str, Any]:
    """The JSON body /find_faces would answer (no face = an empty result, not an error)."""
    import orjson

    from facecore.web.dto import dumps, face_json

    try:
        result = pipeline.find_faces(image, threshold=threshold, limit=limit, slugs=slugs, detect_faces=detect_faces)
    except NoFaceFound:
        return {"plugins_versions": {}, "result": []}
    body = {"plugins_versions": result.plugins_versions, "result": [face_json(face) for face in result.faces]}
    return orjson.loads(dumps(body))


@dataclass(frozen=True)
class Remote:
    """A running service (CompreFace core API) at ``url``."""

    url: str
    timeout: float = 60.0

    def find_faces(self, path: Path, slugs: Sequence[str] = ALL_SLUGS, threshold: float | None = None,
                   limit: int = 0, detect_faces: bool = True) -> dict[str, Any]:
        import requests

        params: dict[str, Any] = {"face_plugins": ",".join(slugs), "limit": limit}
        if threshold is not None:
            params["det_prob_threshold"] = threshold
        if not detect_faces:
            params["detect_faces"] = "false"
        with open(path, "rb") as handle:
            response = requests.post(f"{self.url.rstrip('/')}/find_faces", params=params,
                                     files={"file": (Path(path).name, handle)}, timeout=self.timeout)
        if response.status_code == 400 and "No face is found" in response.text:
            return {"plugins_versions": {}, "result": []}
        response.raise_for_status()
        return response.json()

    def status(self) -> dict[str, Any]:
        import requests

        response = requests.get(f"{self.url.rstrip('/')}/status", timeout=self.timeout)
        response.raise_for_status()
        return response.json()


def remote_from_env(url: str | None) -> Remote | None:
    """``--remote URL``, or ``USE_REMOTE=true`` with ``ML_URL`` (default http://localhost:3000) as in the seed."""
    if url:
        return Remote(url)
    if os.environ.get("USE_REMOTE", "").strip().lower() in ("1", "true", "yes"):
        return Remote(os.environ.get("ML_URL", "http://localhost:3000"))
    return None
