"""One error shape for every endpoint: ``{"message": ...}`` with the right status."""
from __future__ import annotations

import logging

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from src.errors import FaceServiceError
from src.plugin_api import PluginError
from src.web.dto import json_response

log = logging.getLogger(__name__)


def error_body(message: str) -> dict[str, str]:
    return {"message": message}


def register(app: Flask) -> None:
    @app.errorhandler(FaceServiceError)
    def service_error(error: FaceServiceError) -> Response:
        return json_response(error_body(error.message), error.status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        response = json_response(error_body(str(error)), error.code or 500)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(PluginError)
    def plugin_error(error: PluginError) -> Response:
        return json_response(error_body(f"PluginError: {error}"), 500)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        text = str(error)
        name = type(error).__name__
        return json_response(error_body(f"{name}: {text}" if text else name), 500)
