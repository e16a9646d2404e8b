"""Which runtime runs an ONNX model, ONNX Runtime or OpenVINO, and at which precision.

``INFERENCE_BACKEND`` and ``INFERENCE_PRECISION`` take a default and per-plugin overrides by slug, e.g.
``INFERENCE_BACKEND="onnxruntime calculator:openvino"``, ``INFERENCE_PRECISION="f32 calculator:bf16"``.
``int8`` runs a statically quantized copy of the model on ONNX Runtime: only a plugin that has such a copy takes
it (``dlib.Calculator``, whose copy ``python -m tools.benchmarks.quantize`` writes into the model store).
Both runtimes read the same ONNX files. ``auto`` takes what :data:`AUTO_OPENVINO_F32` (measured on this CPU,
docs/benchmarks.md) says is faster for the plugin; with bf16 it is OpenVINO (only OpenVINO has it, and it was
faster on every model); on a CUDA GPU, or without the openvino package, ONNX Runtime. bf16 runs where the CPU
has bf16 instructions (AVX-512 BF16, AMX) and is f32 elsewhere.
"""
from __future__ import annotations

import contextlib
import contextvars
import importlib.util
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

log = logging.getLogger(__name__)

ONNXRUNTIME, OPENVINO, AUTO = "onnxruntime", "openvino", "auto"
BACKENDS = (ONNXRUNTIME, OPENVINO, AUTO)
F32, BF16, INT8 = "f32", "bf16", "int8"
PRECISIONS = (F32, BF16, INT8)
#: ONNX operators only a quantized graph holds: int8 never runs an f32 model while saying int8
QUANTIZED_OPS = frozenset({"QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul", "ConvInteger",
                           "MatMulInteger"})
#: Plugins whose models OpenVINO f32 ran faster than ONNX Runtime f32 (CPU time, 1 thread, interleaved rounds:
#: MTCNN 1.35x; the dlib ResNet 0.98x, age 0.93x and gender 0.87x stay on ONNX Runtime). Unmeasured: ONNX Runtime.
AUTO_OPENVINO_F32 = frozenset({"facenet.FaceDetector"})


@dataclass(frozen=True)
class RuntimeChoice:
    """The runtime (``auto`` is resolved when a model opens) and precision for one plugin's models."""

    backend: str = ONNXRUNTIME
    precision: str = F32

    def resolved(self, wants_gpu: bool, plugin: str = "") -> "RuntimeChoice":
        """``auto`` made concrete for the plugin named ``plugin`` (``backend.Class``), see the module's doc."""
        if self.backend != AUTO:
            return self
        if self.precision == INT8:
            return RuntimeChoice(ONNXRUNTIME, INT8)
        faster = self.precision == BF16 or plugin in AUTO_OPENVINO_F32
        if faster and openvino_installed() and not wants_gpu:
            return RuntimeChoice(OPENVINO, self.precision)
        return RuntimeChoice(ONNXRUNTIME, F32)

    def __str__(self) -> str:
        return f"{self.backend} {self.precision}"


@dataclass(frozen=True)
class RuntimePlan:
    """The default choice and per-slug overrides, as the environment gave them."""

    default: RuntimeChoice = RuntimeChoice()
    per_slug: tuple[tuple[str, RuntimeChoice], ...] = ()

    def for_slug(self, slug: str) -> RuntimeChoice:
        return dict(self.per_slug).get(slug, self.default)


class ModelNotQuantized(ValueError):
    """``int8`` was asked for a model that is not a quantized graph."""


def is_quantized(graph_ops: set[str]) -> bool:
    """True for a graph holding quantization operators (``graph_ops``: the op types of its nodes)."""
    return bool(QUANTIZED_OPS & graph_ops)


def openvino_installed() -> bool:
    return importlib.util.find_spec("openvino") is not None


def parse_plan(backend: str, precision: str) -> RuntimePlan:
    """The plan from the two variables' values; ValueError names what is wrong."""
    backends, backend_default = _split("INFERENCE_BACKEND", backend, BACKENDS, ONNXRUNTIME)
    precisions, precision_default = _split("INFERENCE_PRECISION", precision, PRECISIONS, F32)
    default = RuntimeChoice(backend_default, precision_default)
    per_slug = {slug: RuntimeChoice(backends.get(slug, backend_default), precisions.get(slug, precision_default))
                for slug in sorted({*backends, *precisions})}
    for slug, choice in [("", default), *per_slug.items()]:
        where = f" for {slug}" if slug else ""
        if choice.backend == ONNXRUNTIME and choice.precision == BF16:
            raise ValueError(f"INFERENCE_PRECISION={choice.precision}{where} needs INFERENCE_BACKEND=openvino or auto")
        if choice.backend == OPENVINO and choice.precision == INT8:
            raise ValueError(f"INFERENCE_PRECISION=int8{where} runs on ONNX Runtime (a quantized copy of the model): "
                             "INFERENCE_BACKEND=onnxruntime or auto")
    return RuntimePlan(default, tuple(per_slug.items()))


def _split(variable: str, raw: str, choices: tuple[str, ...], fallback: str) -> tuple[dict[str, str], str]:
    default, per_slug = fallback, {}
    for token in (t for t in re.split(r"[,\s]+", raw.strip().lower()) if t):
        slug, _, value = token.rpartition(":")
        if value not in choices or (slug and not re.fullmatch(r"[a-z0-9_]+", slug)):
            raise ValueError(f"{variable}={raw!r}: {token!r} is not [slug:]{'|'.join(choices)}")
        if slug:
            per_slug[slug] = value
        else:
            default = value
    return per_slug, default


_noted: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("runtimes_noted", default=None)


@contextlib.contextmanager
def runtimes_noted() -> Iterator[list[str]]:
    """Collects the runtimes of the sessions a plugin describes while it loads (for /status)."""
    noted: list[str] = []
    token = _noted.set(noted)
    try:
        yield noted
    finally:
        _noted.reset(token)


def note_runtime(description: str | None) -> None:
    noted = _noted.get()
    if description and noted is not None and description not in noted:
        noted.append(description)


# --------------------------------------------------------------------------------------------- OpenVINO
@dataclass(frozen=True)
class TensorInfo:
    """What ``InferenceSession.get_inputs()`` items offer: name, shape (str for a dynamic dimension), type."""

    name: str
    shape: list[int | str]
    type: str = "tensor(float)"


class OpenVinoSession:
    """An OpenVINO compiled model behind ONNX Runtime's session interface (``run``, ``get_inputs``,
    ``get_outputs``), so that plugins need not know which runtime they use. One infer request per thread:
    a compiled model is shared, a request is not."""

    def __init__(self, model: bytes, device_name: str, threads: int, precision: str,
                 inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = ()) -> None:
        """``inputs``/``outputs``: the ONNX graph's names, which the plugins use (a tensor has several in OpenVINO)."""
        import openvino

        core = openvino.Core()
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
                                  "INFERENCE_PRECISION_HINT": "bf16" if precision == BF16 else "f32"}
        if device_name == "CPU":
            # OpenVINO pins its inference threads to cores by default, from the first core of the process's
            # mask: every uWSGI worker then computed on the same core (2 workers on 2 cores: 47.6 images/s
            # instead of 55.7 with SCRFD + MobileFace v2 on the dlib-faces photos, docs/benchmarks.md).
            config["ENABLE_CPU_PINNING"] = False
            if threads:
                config["INFERENCE_NUM_THREADS"] = threads
        self.compiled = core.compile_model(core.read_model(model), device_name, config)
        self.device_name = device_name
        self.precision = precision
        self._inputs = [TensorInfo(_onnx_name(p, inputs), _shape(p.get_partial_shape())) for p in self.compiled.inputs]
        self._outputs = [TensorInfo(_onnx_name(p, outputs), _shape(p.get_partial_shape()))
                         for p in self.compiled.outputs]
        self._index = {name: i for i, port in enumerate(self.compiled.outputs) for name in port.get_names()}
        self._local = threading.local()

    def get_inputs(self) -> list[TensorInfo]:
        return list(self._inputs)

    def get_outputs(self) -> list[TensorInfo]:
        return list(self._outputs)

    def get_providers(self) -> list[str]:
        return [f"OpenVINO:{self.device_name}"]

    def run(self, output_names: list[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self.compiled.create_infer_request()
        request.infer({name: np.ascontiguousarray(value) for name, value in feeds.items()})
        wanted = output_names or [info.name for info in self._outputs]
        return [np.array(request.get_output_tensor(self._index[name]).data) for name in wanted]


def _onnx_name(port: Any, names: tuple[str, ...]) -> str:
    return next((name for name in names if name in port.get_names()), port.get_any_name())


def _shape(partial: Any) -> list[int | str]:
    return [int(d.get_length()) if d.is_static else f"d{i}" for i, d in enumerate(partial)]


def openvino_device(gpu_index: int) -> str:
    """OpenVINO's name for where to run: ``CPU``, or Intel GPU ``GPU.<GPU_IDX>`` when OpenVINO sees it
    (untested here: no Intel GPU on the machines this was built on); a GPU it does not see falls back to the CPU."""
    if gpu_index < 0:
        return "CPU"
    import openvino

    available = openvino.Core().available_devices
    name = f"GPU.{gpu_index}"
    if name in available or (gpu_index == 0 and "GPU" in available):
        return name if name in available else "GPU"
    log.warning("GPU_IDX=%d asked for OpenVINO device %s, but it sees only %s: running on the CPU",
                gpu_index, name, available)
    return "CPU"
