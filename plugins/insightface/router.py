"""Which decoder an ONNX detector needs, told from its outputs; an unknown layout is an error.

(InsightFace's own router returns ``None`` for graphs it does not know, which fails later and far away;
here a model of one's own either matches a known layout or is refused at load time, naming its outputs.)
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Protocol

import numpy as np

from plugins.insightface.blob import Normalisation
from plugins.insightface.boxes import Candidates
from plugins.insightface.retinaface import MxnetRetinaFaceDecoder, SsdRetinaFaceDecoder
from plugins.insightface.scrfd import OUTPUT_COUNTS, ScrfdDecoder
from plugins.insightface.yunet import YunetDecoder, is_yunet


class Decoder(Protocol):
    kind: str
    norm: Normalisation
    multiple: int

    def decode(self, outputs: dict[str, np.ndarray], width: int, height: int, floor: float) -> Candidates:
        ...


class UnknownDetectorLayout(ValueError):
    """The ONNX graph is none of the detector layouts this plugin decodes."""


def _last_dim(shape: list[Any]) -> Any:
    return shape[-1] if shape else None


def _ssd_roles(names: list[str]) -> dict[str, str] | None:
    roles = {"loc": "loc", "conf": "conf"}
    if not all(n in names for n in roles.values()):
        return None
    marks = next((n for n in ("iou", "landms", "landmarks") if n in names), None)
    return roles | ({"marks": marks} if marks else {})


def _mxnet_roles(names: list[str]) -> dict[int, tuple[str, str, str | None]] | None:
    found: dict[int, tuple[str, str, str | None]] = {}
    for name in names:
        match = re.search(r"cls_prob\w*stride(\d+)", name)
        if not match:
            continue
        stride = int(match.group(1))
        box = next((n for n in names if re.search(rf"bbox_pred\w*stride{stride}(?!\d)", n)), None)
        mark = next((n for n in names if re.search(rf"landmark_pred\w*stride{stride}(?!\d)", n)), None)
        if box is None:
            return None
        found[stride] = (name, box, mark)
    return found or None


def _is_scrfd(shapes: list[list[Any]]) -> bool:
    if len(shapes) not in OUTPUT_COUNTS:
        return False
    levels = len(OUTPUT_COUNTS[len(shapes)])
    widths = [1] * levels + [4] * levels + ([10] * levels if len(shapes) == 3 * levels else [])
    return all(not isinstance(_last_dim(s), int) or _last_dim(s) == w for s, w in zip(shapes, widths))


def decoder_for(session: Any, options: Mapping[str, Any] | None = None) -> Decoder:
    """The decoder matching ``session``'s outputs, or :class:`UnknownDetectorLayout`."""
    options = options or {}
    outputs = session.get_outputs()
    names = [o.name for o in outputs]
    shapes = [list(o.shape or []) for o in outputs]
    if is_yunet(names):
        return YunetDecoder()
    ssd = _ssd_roles(names)
    if ssd:
        return SsdRetinaFaceDecoder(ssd)
    mxnet = _mxnet_roles(names)
    if mxnet:
        return MxnetRetinaFaceDecoder(mxnet, landmark_std=float(options.get("landmark_std", 1.0)))
    if _is_scrfd(shapes):
        return ScrfdDecoder()
    described = ", ".join(f"{n}{s}" for n, s in zip(names, shapes))
    raise UnknownDetectorLayout(
        f"unknown face detector layout with {len(names)} outputs ({described}); this plugin decodes SCRFD "
        f"(6/9/10/15 outputs: scores, boxes[, keypoints] per stride), RetinaFace (loc/conf/iou or MXNet "
        f"face_rpn_*_stride<s>) and YuNet (cls/obj/bbox/kps_<stride>)")
