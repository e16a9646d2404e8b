"""Domain errors. Each carries the HTTP status the web layer answers with."""
from __future__ import annotations


class FaceServiceError(Exception):
    """Base of the errors that become a JSON ``{"message": ...}`` response."""

    status = 500
    reason = "Internal Server Error"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    @property
    def message(self) -> str:
        """CompreFace's wording: ``"<status> <reason>: <description>"``."""
        return f"{self.status} {self.reason}: {self.description}"


class BadRequest(FaceServiceError):
    status = 400
    reason = "Bad Request"


class NoFaceFound(BadRequest):
    def __init__(self) -> None:
        super().__init__("No face is found in the given image")


class ImageReadError(BadRequest):
    def __init__(self, description: str = "Image has incorrect format or is broken") -> None:
        super().__init__(description)


class PayloadTooLarge(FaceServiceError):
    status = 413
    reason = "Request Entity Too Large"


class ServiceUnavailable(FaceServiceError):
    status = 503
    reason = "Service Unavailable"


class StartupError(Exception):
    """A configuration or model problem that must stop the start with one clear line."""
