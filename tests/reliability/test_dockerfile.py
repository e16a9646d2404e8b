"""The image runs as a non-root user, without debug mode and without secrets baked in."""
from __future__ import annotations

import re

from tests.reliability.helpers import ROOT

SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AWS_)", re.IGNORECASE)


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def test_runs_as_non_root():
    users = [arg.strip() for op, arg in instructions() if op == "USER"]
    assert users, "no USER instruction: the container would run as root"
    assert users[-1] not in ("root", "0", "0:0")
    created = " ".join(arg for op, arg in instructions() if op == "RUN")
    assert re.search(rf"useradd\b.*\b{re.escape(users[-1])}\b", created)


def test_no_debug_mode():
    for op, arg in instructions():
        assert not re.search(r"FLASK_DEBUG\s*=\s*(1|true)|--debug|debug\s*=\s*True|FLASK_ENV\s*=\s*development",
                             arg, re.IGNORECASE), (op, arg)
    cmd = [arg for op, arg in instructions() if op in ("CMD", "ENTRYPOINT")][-1]
    assert "uwsgi" in cmd and "facecore.app" not in cmd  # production server, not Flask's development server


def test_no_secrets_in_env_or_args():
    for op, arg in instructions():
        if op in ("ENV", "ARG"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*=", arg) or [arg.split()[0]]:
                assert not SECRET_NAME.search(name), f"{op} {name} looks like a secret"
        if op in ("COPY", "ADD"):
            assert not re.search(r"\.env\b|\.pem\b|id_rsa|\.netrc", arg)
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in (".env", "*.pem", "*.key", ".git"):
        assert pattern in ignored


def test_uwsgi_has_no_debug_and_a_time_limit():
    """The per-request limit comes from UWSGI_HARAKIRI (uWSGI maps UWSGI_* variables to its options), which
    the Dockerfile and `make run` set; an ini value would override the variable."""
    ini = (ROOT / "uwsgi.ini").read_text()
    assert not re.search(r"^harakiri\s*=", ini, re.MULTILINE)
    assert re.search(r"UWSGI_HARAKIRI=\d+", (ROOT / "Dockerfile").read_text())
    assert re.search(r"^UWSGI_HARAKIRI \?= \d+", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert not re.search(r"^(py-autoreload|honour-stdin|catch-exceptions)\s*=\s*(1|true)", ini, re.MULTILINE)
