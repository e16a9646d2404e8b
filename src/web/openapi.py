"""The service's OpenAPI 3 document, written by hand and served at ``/apidocs``.

A test checks that every route of the app is described here and schemathesis fuzzes the app from it,
so it stays true to the code.
"""
from __future__ import annotations

from typing import Any

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


ERRORS = {
    "400": _json(_ref("Error"), "bad input: not an image, bad argument, no face found"),
    "413": _json(_ref("Error"), "body over MAX_BODY_BYTES"),
    "503": _json(_ref("Error"), "all in-flight slots busy (MAX_IN_FLIGHT); see Retry-After"),
}

QUERY_ARGS = [
    {"name": "limit", "in": "query", "description": "at most this many faces, largest first; 0 = all",
     "schema": {"type": "string"}},
    {"name": "det_prob_threshold", "in": "query", "description": "a number in [0, 1]",
     "schema": {"type": "string"}},
    {"name": "face_plugins", "in": "query", "description": "slugs separated by commas/spaces",
     "schema": {"type": "string"}},
    {"name": "detect_faces", "in": "query", "description": "'false' = the whole image is the face",
     "schema": {"type": "string"}},
]

MULTIPART = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}}}}}}


def _image_post(summary: str, result: dict[str, Any], body: dict[str, Any], args: list | None = None) -> dict:
    return {"post": {"summary": summary, "parameters": QUERY_ARGS if args is None else args, "requestBody": body,
                     "responses": {"200": _json(result, "the faces found"), **ERRORS}}}


def _get(summary: str, schema: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": _json(schema, "OK"), **(extra or {})}}}


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["message"], "properties": {"message": {"type": "string"}}},
    "Status": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
    "Box": {"type": "object", "required": ["x_min", "y_min", "x_max", "y_max", "probability"],
            "properties": {k: {"type": "integer"} for k in ("x_min", "y_min", "x_max", "y_max")}
            | {"probability": {"type": "number"}}},
    "Face": {"type": "object", "required": ["box", "execution_time"],
             "properties": {"box": _ref("Box"), "execution_time": {"type": "object"},
                            "embedding": {"type": "array", "items": {"type": "number"}},
                            "age": {"type": "object"}, "gender": {"type": "object"},
                            "landmarks": {"type": "array"}, "pose": {"type": "object"},
                            "liveness": {"type": "object"}, "quality": {"type": "object"},
                            "emotion": {"type": "object"}, "emotions": {"type": "object"},
                            "mask": {"type": "object"}}},
    "FindFaces": {"type": "object", "required": ["result", "plugins_versions"],
                  "properties": {"result": {"type": "array", "items": _ref("Face")},
                                 "plugins_versions": {"type": "object"}}},
    "ScanFaces": {"type": "object", "required": ["calculator_version", "result"],
                  "properties": {"calculator_version": {"type": "string"}, "result": {"type": "array"}}},
    "Vectorize": {"type": "array", "items": {"type": "object", "required": ["box", "vector", "score"]}},
    "ServiceStatus": {"type": "object",
                      "required": ["status", "build_version", "calculator_version", "similarity_coefficients",
                                   "available_plugins"],
                      "properties": {"status": {"type": "string"}, "build_version": {"type": "string"},
                                     "calculator_version": {"type": "string"},
                                     "similarity_coefficients": {"type": "array", "items": {"type": "number"}},
                                     "available_plugins": {"type": "object"}, "plugins": {"type": "object"}}},
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "face-core", "version": "1",
             "description": "CompreFace core (embedding-calculator) API; see docs/api.md and docs/security.md"},
    "paths": {
        "/healthcheck": _get("liveness: OK as soon as the process serves", _ref("Status")),
        "/readiness": _get("readiness: OK once every model is loaded and warmed", _ref("Status"),
                           {"503": _json(_ref("Status"), "still loading")}),
        "/status": _get("versions, plugins and similarity coefficients", _ref("ServiceStatus")),
        "/metrics": {"get": {"summary": "Prometheus metrics summed over every uWSGI worker", "responses": {
            "200": {"description": "text exposition format", "content": {"text/plain": {"schema": {
                "type": "string"}}}}}}},
        "/apidocs": _get("this document", {"type": "object"}),
        "/find_faces": _image_post("find faces and run face plugins on a multipart image", _ref("FindFaces"),
                                   MULTIPART),
        "/find_faces_base64": _image_post(
            "find_faces with a JSON body {file: base64}", _ref("FindFaces"),
            {"required": True, "content": {JSON: {"schema": {
                "type": "object", "required": ["file"], "properties": {"file": {"type": "string"}}}}}}),
        "/scan_faces": _image_post("legacy: detector and calculator only", _ref("ScanFaces"), MULTIPART,
                                   QUERY_ARGS[:2]),
        "/vectorize": _image_post("the seed Vectorizer: boxes, vectors, scores", _ref("Vectorize"), MULTIPART, []),
    },
    "components": {"schemas": SCHEMAS},
}
