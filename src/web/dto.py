"""The wire format: domain results -> CompreFace's JSON (sorted keys, ints for boxes), via orjson.

numpy is converted only here. Embeddings are float32 and are written with the shortest text that
reads back as the same float32 (CompreFace printed the float64 widening, e.g. 0.10000000149011612;
both parse to the same float32).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from flask import Response

from facecore.pipeline import FaceResult

JSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dumps(payload: Any) -> bytes:
    return orjson.dumps(payload, default=_default, option=JSON_OPTIONS)


def _default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "to_json"):
        return value.to_json()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(dumps(payload), status=status, mimetype="application/json")


def box_json(face: FaceResult) -> dict[str, Any]:
    box = face.detection.box
    return {"x_min": int(box.x_min), "y_min": int(box.y_min), "x_max": int(box.x_max), "y_max": int(box.y_max),
            "probability": float(face.detection.probability)}


def face_json(face: FaceResult) -> dict[str, Any]:
    """``{box, execution_time, <plugin keys>...}`` for one face."""
    data: dict[str, Any] = dict(face.fragments)
    data["box"] = box_json(face)
    data["execution_time"] = dict(face.execution_time)
    return data


def vectorize_json(face: FaceResult) -> dict[str, Any]:
    """The seed Vectorizer's shape: ``{"box": [x1, y1, x2, y2], "vector": [...], "score": p}``."""
    box = box_json(face)
    return {"box": [box["x_min"], box["y_min"], box["x_max"], box["y_max"]],
            "vector": face.fragments.get("embedding"), "score": box["probability"]}
