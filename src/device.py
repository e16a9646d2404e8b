"""Where models run: resolved once from GPU_IDX and handed to every plugin's ``load``."""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from facecore.inference_runtime import OPENVINO, OpenVinoSession, RuntimeChoice, RuntimePlan, note_runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Device:
    """``gpu_index`` -1 means CPU; N >= 0 asks for CUDA device N. ``threads``: intra-op threads per
    session (0 = all cores; the service passes its share, see ``Settings.onnx_threads``).
    ``detection_side``: the longest side of the copy a detector is handed (``IMG_LENGTH_LIMIT``; 0: unbounded)."""

    gpu_index: int = -1
    threads: int = 0
    #: the runtime and precision of the plugin being loaded (``for_plugin``), from ``plan``
    runtime: RuntimeChoice = RuntimeChoice()
    plan: RuntimePlan = RuntimePlan()
    detection_side: int = 0

    def for_plugin(self, slug: str, name: str = "") -> "Device":
        """This device with the runtime INFERENCE_BACKEND/INFERENCE_PRECISION give the plugin ``slug``
        (``auto`` resolved for the plugin named ``name``)."""
        return replace(self, runtime=self.plan.for_slug(slug).resolved(self.wants_gpu, name))

    @property
    def wants_gpu(self) -> bool:
        return self.gpu_index >= 0

    def __str__(self) -> str:
        return f"cuda:{self.gpu_index}" if self.wants_gpu else "cpu"


def onnx_providers(device: Device, available: list[str] | None = None) -> list[Any]:
    """ONNX Runtime providers for ``device``: CUDA (with ``device_id``) then CPU on a GPU, CPU only
    otherwise. When CUDA is asked for but this onnxruntime has no CUDA provider, warn and use the CPU."""
    if available is None:
        import onnxruntime

        available = onnxruntime.get_available_providers()
    if not device.wants_gpu:
        return ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" not in available:
        log.warning("GPU_IDX=%d asked for CUDA, but onnxruntime offers only %s: running on the CPU",
                    device.gpu_index, available)
        return ["CPUExecutionProvider"]
    return [("CUDAExecutionProvider", {"device_id": device.gpu_index}), "CPUExecutionProvider"]


def describe_session(session: Any) -> str:
    """The device an ONNX Runtime or OpenVINO session actually runs on, for /status; notes its runtime
    for the plugin being loaded (see :func:`facecore.inference_runtime.runtimes_noted`)."""
    note_runtime(getattr(session, "facecore_runtime", None))
    if isinstance(session, OpenVinoSession):
        return "cpu" if session.device_name == "CPU" else f"{OPENVINO}:{session.device_name}"
    providers = session.get_providers()
    if providers and providers[0] == "CUDAExecutionProvider":
        opts = session.get_provider_options().get("CUDAExecutionProvider", {})
        return f"cuda:{opts.get('device_id', 0)}"
    return "cpu"
