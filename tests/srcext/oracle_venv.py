"""Reference frameworks (MXNet, TensorFlow) as test oracles, each in its own virtual environment under
:data:`ORACLE_CACHE`, created once under a file lock and reused; a test that needs one skips with the reason
when it cannot be built (no network, no wheel for this platform).

The cache sits in the user's cache folder, not in the clone: building TensorFlow's venv and its stand-in
models costs ~15 minutes on 2 cores, and a fresh clone (as CI makes) should pay it once per machine, like
pip's own cache. ``FACECORE_ORACLE_CACHE`` moves it."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

ORACLE_CACHE = Path(os.environ.get("FACECORE_ORACLE_CACHE")
                    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "facecore-oracles")


@lru_cache(maxsize=None)
def _build(venv: Path, requirements: tuple[str, ...], check: str) -> str | None:
    """Create the venv once; None when ready, else why not."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    python = venv / "bin" / "python"
    with open(venv.parent / f"{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        ready = venv / ".ready"
        if ready.exists() and ready.read_text() == " ".join(requirements) + "\n":
            return None
        try:
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True,
                               timeout=300)
            subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True,
                           capture_output=True, timeout=1800)
            subprocess.run([str(python), "-c", check], check=True, capture_output=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as error:
            detail = getattr(error, "stderr", b"") or b""
            return f"{error}: {detail.decode(errors='replace')[-400:]}"
        ready.write_text(" ".join(requirements) + "\n")
    return None


def oracle_python(venv: Path, requirements: tuple[str, ...], check: str, what: str) -> Path:
    """The venv's interpreter, built if needed; skips the calling test when it cannot be built."""
    reason = _build(venv, requirements, check)
    if reason is not None:
        pytest.skip(f"{what} oracle venv ({venv}) unavailable: {reason}")
    return venv / "bin" / "python"
