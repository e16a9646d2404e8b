"""One error shape for every endpoint: ``{"message": ...}`` with the right status.

:func:`error_body` is the only place the body is built: Flask's handlers and the WSGI limits
(src/web/limits.py) both use it. An unexpected exception is logged with its traceback and answered
with a fixed message: its text may hold paths, values or library internals, never for the client.
"""
from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from facecore.errors import FaceServiceError
from facecore.plugin_api import PluginError
from facecore.web.dto import dumps

log = logging.getLogger(__name__)


UNEXPECTED = "500 Internal Server Error: the request failed; the server log has the details"


def error_body(message: str) -> bytes:
    return dumps({"message": message})


def error_response(message: str, status: int) -> Response:
    return Response(error_body(message), status=status, mimetype="application/json")


def register(app: Flask) -> None:
    @app.errorhandler(FaceServiceError)
    def service_error(error: FaceServiceError) -> Response:
        return error_response(error.message, error.status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = error_response(str(error), error.code or 500)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(PluginError)
    def plugin_error(error: PluginError) -> Response:
        return error_response(f"PluginError: {error}", 500)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(UNEXPECTED, 500)
