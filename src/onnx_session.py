"""One way to open ONNX Runtime sessions: device placement and thread counts decided in one place."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from facecore.cpu_budget import available_cpus
from facecore.device import Device, onnx_providers
from facecore.inference_runtime import INT8, OPENVINO, ModelNotQuantized, OpenVinoSession, is_quantized, openvino_device

#: The smallest normal float32. Anything nearer zero (but not zero) is subnormal.
SMALLEST_NORMAL = float(np.finfo(np.float32).tiny)
#: A detector keeps ONNX Runtime's memory arena while the copy it is handed is at most this many pixels on its
#: longer side (``IMG_LENGTH_LIMIT``): the arena then stays at one run's peak, measured in docs/security.md.
ARENA_MAX_DETECTION_SIDE = 1024


def open_session(model: Path | bytes, device: Device, threads: int | None = None, *,
                 detector_input: bool = False) -> Any:
    """An ``onnxruntime.InferenceSession`` on ``device`` with a bounded thread pool: ``threads`` when a
    plugin knows better (MTCNN's many small nets), else the device's share of the cores (from Settings).
    With ``device.runtime`` OpenVINO, an :class:`OpenVinoSession` (same interface) of the same graph.
    ``detector_input``: every run's input is the detection copy (or a fixed size), see :func:`keeps_arena`."""
    choice = device.runtime.resolved(device.wants_gpu)
    count = threads or device.threads or available_cpus()
    if choice.backend == OPENVINO:
        proto = onnx_model(model)
        flush_subnormal_weights(proto)
        names = tuple(i.name for i in proto.graph.input), tuple(o.name for o in proto.graph.output)
        session: Any = OpenVinoSession(proto.SerializeToString(), openvino_device(device.gpu_index),
                                       count, choice.precision, *names)
        session.facecore_runtime = str(choice)
        return session
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = count
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    # Idle pool threads must not spin: with several workers on few cores, spinning steals the CPU
    # another worker is computing on (MTCNN measured 314 ms with spinning, 77 ms without, 2 cores).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if detector_input and keeps_arena(device):
        options.enable_mem_pattern = False  # one plan per input shape: more memory, no time saved
    else:
        release_memory_after_runs(options)
    source: str | bytes = model if isinstance(model, bytes) else str(model)
    proto = onnx_model(model)
    if choice.precision == INT8 and not is_quantized({node.op_type for node in proto.graph.node}):
        raise ModelNotQuantized("INFERENCE_PRECISION=int8 was asked for a plugin that has no int8 copy of its model "
                                "(dlib.Calculator has one: python -m tools.benchmarks.quantize writes it)")
    if flush_subnormal_weights(proto):
        source = proto.SerializeToString()
    session = onnxruntime.InferenceSession(source, sess_options=options, providers=onnx_providers(device))
    session.facecore_runtime = str(choice)
    return session


def keeps_arena(device: Device) -> bool:
    """Whether a detector's session keeps ONNX Runtime's CPU memory arena on ``device``.

    Why: without it, a run whose activations the C heap cannot serve from memory it already holds maps them
    afresh and faults their pages in. In the service (``tools.benchmarks.service_ab``, requests alternated with
    the commit before) YuNet took 24.9 instead of 27.0 ms per deepface portrait and SCRFD-500M 18.7 instead of
    21.0 per 640-px portrait; a photo of the same size as the one before gains nothing. A detector's input is
    bounded by the detection copy, so its arena is too, unlike a calculator's (its batch of faces). Not with
    ``IMG_LENGTH_LIMIT=0`` or above :data:`ARENA_MAX_DETECTION_SIDE`: the largest photo's
    peak would be kept for the worker's life."""
    return 0 < device.detection_side <= ARENA_MAX_DETECTION_SIDE


def release_memory_after_runs(options: Any) -> None:
    """No CPU memory arena and no memory patterns: each run's buffers go back to the allocator.

    Why: with the arena, a run over many faces (or MTCNN over thousands of candidate boxes) grew the
    arena to its peak and kept it for the life of the worker (300 MB -> 3.4 GB, never released). Without
    it, ONNX Runtime allocates per run; the cost measured on the default plugins is in docs/security.md.
    """
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False


def onnx_model(model: Path | bytes) -> Any:
    import onnx

    return onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(str(model))


def flush_subnormal_weights(model: Any) -> int:
    """Set float32 weights nearer zero than :data:`SMALLEST_NORMAL` to 0; returns how many there were.

    A CPU computes with subnormal numbers through a slow path, and ONNX Runtime does not flush them on the
    thread that calls ``run``: dlib-models' age network holds 6667 such weights and took 93 ms for 8 faces
    instead of 10. A weight under 1.2e-38 changes no output a float32 can show (the test compares them).
    """
    from onnx import TensorProto, numpy_helper

    flushed = 0
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.data_type != TensorProto.FLOAT:
            continue
        values = numpy_helper.to_array(tensor)
        subnormal = (np.abs(values) < SMALLEST_NORMAL) & (values != 0)
        count = int(np.count_nonzero(subnormal))
        if count:
            model.graph.initializer[index].CopyFrom(numpy_helper.from_array(np.where(subnormal, 0, values)
                                                                            .astype(np.float32), tensor.name))
            flushed += count
    return flushed
