"""Request parameters, parsed and validated up front (a bad value is a 400, never a 500).

Values come from ``request.values``: query string and multipart/urlencoded form fields alike.
"""
from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Mapping

import orjson
from werkzeug.datastructures import FileStorage

from facecore.config import split_list
from facecore.errors import BadRequest

THRESHOLD_ERROR = "Detection threshold incorrect (0 <= det_prob_threshold <= 1)"
#: More digits than any face count: Python refuses to convert over 4,300 (a 500 before this check).
LIMIT_DIGITS = 9
DATA_URI = re.compile(r"^data:[\w/+.-]*;base64,", re.IGNORECASE)


def threshold(values: Mapping[str, str]) -> float | None:
    raw = (values.get("det_prob_threshold") or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(THRESHOLD_ERROR) from None
    if math.isnan(value) or not 0.0 <= value <= 1.0:
        raise BadRequest(THRESHOLD_ERROR)
    return value


def limit(values: Mapping[str, str]) -> int:
    raw = (values.get("limit") or "").strip()
    if not raw:
        return 0
    if not re.fullmatch(r"[+-]?\d+", raw):
        raise BadRequest("Limit format is invalid (limit >= 0)")
    if len(raw.lstrip("+-").lstrip("0")) > LIMIT_DIGITS:
        raise BadRequest(f"Limit value is invalid (0 <= limit < 10^{LIMIT_DIGITS})")
    value = int(raw)
    if value < 0:
        raise BadRequest("Limit value is invalid (limit >= 0)")
    return value


def face_plugins(values: Mapping[str, str]) -> tuple[str, ...]:
    return split_list(values.get("face_plugins") or "")


def detect_faces(values: Mapping[str, str]) -> bool:
    """Only the word ``false`` turns detection off (any case), as CompreFace's Java client sends it."""
    return (values.get("detect_faces") or "").strip().lower() != "false"


def attached_file(files: Mapping[str, FileStorage]) -> bytes:
    upload = files.get("file")
    if upload is None:
        raise BadRequest("No file is attached")
    if upload.filename == "":
        raise BadRequest("No file is selected")
    return upload.read()


def json_body(raw: bytes) -> object:
    """The parsed JSON body, or ``None`` when it is not JSON - nesting deeper than orjson's 1024 levels
    included (Flask's parser raised RecursionError there, a 500)."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def base64_file(body: object) -> bytes:
    """``{"file": "<base64>"}`` -> bytes. A data-URI prefix is accepted; bad padding is a 400."""
    if not isinstance(body, dict):
        raise BadRequest('Request body must be JSON: {"file": "<base64 of the image>"}')
    text = body.get("file")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest('No file is attached: the JSON body needs a "file" field with the base64 image')
    text = DATA_URI.sub("", text.strip())
    try:
        return base64.b64decode(text)
    except (binascii.Error, ValueError):
        raise BadRequest("File is not valid base64") from None
