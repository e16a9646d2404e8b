"""The HTTP endpoints of CompreFace's core, plus the seed Vectorizer's /vectorize."""
from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
from flask import Blueprint, Flask, Response, current_app, g, request

from facecore.imaging import DecodeLimits, decode_image
from facecore.pipeline import FaceResult, Pipeline
from facecore.web import params
from facecore.web.dto import box_json, face_json, json_response, vectorize_json
from facecore.web.headers import CACHE_CONTROL
from facecore.web.metrics import Metrics
from facecore.web.openapi import DOCUMENT
from facecore.web.routing import rule_name

bp = Blueprint("core", __name__)
log = logging.getLogger("facecore")
IGNORED_HEADER = "X-Ignored-Face-Plugins"
IGNORED_NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MAX_IGNORED_NAMED = 16


def route_endpoints(app: Flask, method: str | None = None) -> frozenset[str]:
    """The endpoints this blueprint serves on ``app`` (only those answering ``method`` when given), named as
    src/web/routing.py names a routed request: the one list of routes, read by the limits' image endpoints."""
    return frozenset(rule_name(rule) for rule in app.url_map.iter_rules()
                     if rule.endpoint.startswith(f"{bp.name}.") and (method is None or method in (rule.methods or ())))


def pipeline() -> Pipeline:
    return current_app.extensions["facecore.pipeline"]


def metrics() -> Metrics:
    return current_app.extensions["facecore.metrics"]


def read_image(data: bytes) -> np.ndarray:
    return decode_image(data, DecodeLimits(max_pixels=current_app.config["MAX_IMAGE_PIXELS"],
                                           max_frames=current_app.config["MAX_IMAGE_FRAMES"]))


def observed(faces: list[FaceResult]) -> list[FaceResult]:
    metrics().observe_result(len(faces))
    return faces


@bp.get("/healthcheck")
def healthcheck() -> Response:
    return json_response({"status": "OK"})


@bp.get("/readiness")
def readiness() -> Response:
    """200 once every configured model is loaded and warmed; 503 before (liveness is /healthcheck)."""
    ready = pipeline().ready
    return json_response({"status": "OK" if ready else "LOADING"}, 200 if ready else 503)


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    body, content_type = metrics().exposition()
    return Response(body, mimetype=content_type.split(";")[0], content_type=content_type)


@bp.get("/apidocs")
def apidocs() -> Response:
    """The OpenAPI 3 document (src/web/openapi.py)."""
    return json_response(DOCUMENT)


@bp.get("/status")
def status() -> Response:
    current = pipeline()
    body: dict[str, Any] = {"status": "OK", "build_version": current_app.config["BUILD_VERSION"], **current.status()}
    body["plugins"] = {p.slug: p.describe() for p in current.plugins}  # extra key: device, model, licence
    return json_response(body)


def _find_faces(image_bytes: bytes) -> Response:
    image = read_image(image_bytes)  # the image is judged before the other arguments, as in CompreFace
    values = request.values
    slugs = params.face_plugins(values)
    result = pipeline().find_faces(image, threshold=params.threshold(values), limit=params.limit(values),
                                   slugs=slugs, detect_faces=params.detect_faces(values))
    response = json_response({"plugins_versions": result.plugins_versions,
                              "result": [face_json(face) for face in observed(result.faces)]})
    ignored = pipeline().unknown(slugs)
    if ignored:
        _say_ignored(response, ignored)
    return response


def _say_ignored(response: Response, ignored: list[str]) -> None:
    """Unknown ``face_plugins`` are ignored, as CompreFace's clients expect, but not silently: a header
    and a log line name them (only names that are safe tokens, at most 16; the rest are counted)."""
    safe = [name for name in ignored if IGNORED_NAME.fullmatch(name)][:MAX_IGNORED_NAMED]
    unnamed = len(ignored) - len(safe)
    listed = ", ".join(safe + ([f"{unnamed} more"] if unnamed else []))
    response.headers[IGNORED_HEADER] = listed
    log.info("request_id=%s ignored unknown face_plugins: %s (configured: %s)", g.get("request_id", "-"), listed,
             ", ".join(pipeline().face_plugins))


@bp.post("/find_faces")
def find_faces() -> Response:
    return _find_faces(params.attached_file(request.files))


@bp.post("/find_faces_base64")
def find_faces_base64() -> Response:
    return _find_faces(params.base64_file(params.json_body(request.get_data())))


@bp.post("/scan_faces")
def scan_faces() -> Response:
    """Legacy: detector + calculator only, CompreFace's constant ``calculator_version``."""
    image = read_image(params.attached_file(request.files))
    current = pipeline()
    result = current.find_faces(image, threshold=params.threshold(request.values), limit=params.limit(request.values),
                                slugs=[current.calculator.slug])
    faces = [{"box": box_json(face), "embedding": face.fragments["embedding"],
              "execution_time": {k: face.execution_time[k] for k in ("detector", "calculator")}}
             for face in observed(result.faces)]
    return json_response({"calculator_version": "ScannerWithPlugins", "result": faces})


@bp.post("/vectorize")
def vectorize() -> Response:
    """The seed Vectorizer's API: every face with its box, embedding and detection score."""
    image = read_image(params.attached_file(request.files))
    current = pipeline()
    faces = current.detect(image, current.default_threshold)
    results = current.run_plugins(image, faces, [current.calculator.slug]) if faces else []
    return json_response([vectorize_json(face) for face in observed(results)])


@bp.after_app_request
def no_caching(response: Response) -> Response:
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response
