"""Headers every answer carries, the limits' early refusals included: request id and no caching.

The request id is taken from ``X-Request-Id`` only when it is a short safe token: a header is data, and
a newline in it forged log lines and made every response fail to be written.
"""
from __future__ import annotations

import re
import uuid

SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
ENVIRON_KEY = "facecore.request_id"
CACHE_CONTROL = "max-age=0, no-cache, no-store, must-revalidate, proxy-revalidate"


def request_id(environ: dict) -> str:
    """The client's ``X-Request-Id`` when it is a safe token, else a new one; the same for the whole request."""
    value = environ.get(ENVIRON_KEY)
    if value is None:
        offered = environ.get("HTTP_X_REQUEST_ID", "")
        value = offered if SAFE_REQUEST_ID.fullmatch(offered) else uuid.uuid4().hex[:16]
        environ[ENVIRON_KEY] = value
    return value


def common_headers(environ: dict) -> list[tuple[str, str]]:
    return [("X-Request-Id", request_id(environ)), ("Cache-Control", CACHE_CONTROL)]
