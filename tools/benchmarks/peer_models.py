"""The ONNX files both InsightFace's package and the service get: SCRFD-500M and MobileFace v2 (converted).

The service reads them as models of one's own from a store of its own (``MODELS_ROOT``, docs/insightface.md);
InsightFace's ``FaceAnalysis`` reads a folder of ONNX files. Both hold hard links to the same bytes.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tools.benchmarks import SHARED

DETECTOR = "scrfd_500m_bnkps"
CALCULATOR = "mobileface_v2_onnx"


@dataclass(frozen=True)
class PeerModels:
    models_root: Path  # the service's MODELS_ROOT
    onnx_dir: Path  # FaceAnalysis' folder
    detector: str = DETECTOR
    calculator: str = CALCULATOR


def _place(source: Path, target: Path, link: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        if not link:
            raise OSError("copy")  # a copy out of ../shared, whose files must never share an inode with ours
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def prepare(work_dir: Path) -> PeerModels:
    """Both folders under ``work_dir`` (re-made each call: a few MB). Needs ../shared/models."""
    from srcext.mxnet import convert_cached

    scrfd = SHARED / "models" / "scrfd_500m_bnkps.onnx"
    mxnet = SHARED / "models" / "mxnet" / "mobileface_v2"
    if not scrfd.exists() or not mxnet.exists():
        raise SystemExit(f"the insightface comparison needs {scrfd} and {mxnet} (the shared models folder)")
    mobileface = convert_cached(mxnet / "MobileFace_Identification_V2-symbol.json",
                                mxnet / "MobileFace_Identification_V2-0000.params", (1, 3, 112, 112),
                                out_dir=work_dir / "converted")
    root, onnx_dir = work_dir / "models", work_dir / "insightface-models"
    for name, source, kind in ((DETECTOR, scrfd, "detector"), (CALCULATOR, Path(mobileface), "calculator")):
        stored = root / "insightface" / kind / name / f"{name}.onnx"
        _place(source, stored, link=False)
        _place(stored, onnx_dir / f"{name}.onnx", link=True)
    return PeerModels(root.resolve(), onnx_dir.resolve())
