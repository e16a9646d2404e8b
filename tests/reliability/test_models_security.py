"""Model files: checksums at start, no unpickling of untrusted files, names that cannot escape MODELS_ROOT."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from facecore.app import create_app, wsgi_app
from facecore.config import Settings
from facecore.errors import StartupError
from tests.reliability.helpers import ROOT

YUNET_FILE = "face_detection_yunet_2023mar.onnx"


def settings_for(root: Path, detector: str) -> Settings:
    return Settings(detector=detector, calculator="dlib.Calculator", extras=(), models_root=root,
                    models_offline=True, warm_up=False)


def test_altered_model_file_stops_the_start(tmp_path):
    target = tmp_path / "opencv" / "detector" / "yunet_2023mar" / YUNET_FILE
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x08\x07" + bytes(1000))  # truncated / altered: the pinned sha256 cannot match
    with pytest.raises(StartupError, match=re.escape(YUNET_FILE) + ".*checksum mismatch"):
        create_app(settings_for(tmp_path, "opencv.FaceDetector"))


def test_uwsgi_entry_exits_with_one_line_naming_the_file(tmp_path, monkeypatch, caplog):
    target = tmp_path / "opencv" / "detector" / "yunet_2023mar" / YUNET_FILE
    target.parent.mkdir(parents=True)
    target.write_bytes(bytes(10))
    for name, value in {"MODELS_ROOT": str(tmp_path), "MODELS_OFFLINE": "true", "EXTRA_PLUGINS": "",
                        "FACE_DETECTION_PLUGIN": "opencv.FaceDetector", "WARM_UP": "false"}.items():
        monkeypatch.setenv(name, value)
    with caplog.at_level(logging.CRITICAL), pytest.raises(SystemExit) as stopped:
        wsgi_app()
    assert stopped.value.code == 22  # uWSGI's failed-app status: need-app stops the server (the master exits 2)
    assert any(YUNET_FILE in r.getMessage() and r.getMessage().startswith("cannot start") for r in caplog.records)


@pytest.mark.parametrize("selection", ["opencv.FaceDetector@../../x", "opencv.FaceDetector@..",
                                       "insightface.Calculator@../../../etc/passwd", "dlib.Calculator@../x"])
def test_model_names_cannot_escape_models_root(tmp_path, selection):
    root = tmp_path / "models"
    kind = "calculator" if "Calculator" in selection else "detector"
    settings = settings_for(root, "opencv.FaceDetector")
    settings = settings.with_overrides(**{kind: selection})
    with pytest.raises((StartupError, ValueError), match="invalid model name|unknown model"):
        create_app(settings)
    assert not any(p for p in tmp_path.iterdir() if p != root)


UNSAFE = re.compile(r"pickle\.loads?\(|cPickle|dill\.load|cloudpickle|torch\.load\((?![^)]*weights_only=True)"
                    r"|allow_pickle\s*=\s*True|joblib\.load\(|marshal\.loads?\(|shelve\.open\(")
#: the one allowed loader: the mtcnn weights from the pinned pip package, sha256-checked before loading
ALLOWED = {("plugins/facenet/nets.py", "joblib.load(")}


def test_no_code_path_unpickles_untrusted_files():
    found = set()
    for folder in ("src", "plugins", "srcext", "tools"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for match in UNSAFE.finditer(path.read_text(errors="replace")):
                found.add((str(path.relative_to(ROOT)), match.group(0)))
    assert found <= ALLOWED, f"unpickling outside the allowed loader: {sorted(found - ALLOWED)}"


def test_unsafe_pattern_catches_what_it_should():
    for code in ("pickle.load(f)", "torch.load(p)", "np.load(p, allow_pickle=True)", "joblib.load(p)"):
        assert UNSAFE.search(code), code
    assert not UNSAFE.search("torch.load(p, weights_only=True)")


def test_mtcnn_weights_are_pinned_and_verified():
    from plugins.facenet.detector import MTCNN

    assert MTCNN.files and all(re.fullmatch(r"[0-9a-f]{64}", f.sha256 or "") for f in MTCNN.files)
    assert all(f.source.startswith("package:mtcnn/") for f in MTCNN.files)
