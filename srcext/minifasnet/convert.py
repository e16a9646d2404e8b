"""MiniFASNet ``.pth`` -> ONNX, once, cached beside the weights.

The ``.pth`` files are pickles; they are read only with ``torch.load(weights_only=True)``, which refuses any
pickle opcode beyond tensors and plain containers, so a hostile file cannot run code. PyTorch is needed only
here, at import/build time (``tools.download_models`` or the first load); serving runs the ONNX file.
"""
from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path

from srcext.cache import convert_if_needed, sha256_file

log = logging.getLogger(__name__)

CONVERTER_VERSION = 1
OPSET = 17
INPUT_NAME, OUTPUT_NAME = "input", "logits"
TORCH_REQUIREMENT = "torch==2.13.0"


class MinifasnetConversionError(Exception):
    """The weights cannot be read or converted (missing PyTorch, a file that is not a MiniFASNet state dict)."""


def load_state(pth: Path) -> dict:
    """The state dict of ``pth`` read without executing pickle code (tensors and dicts only)."""
    try:
        import torch
    except ImportError as error:
        raise MinifasnetConversionError(
            f"converting {pth.name} to ONNX needs PyTorch ({TORCH_REQUIREMENT}, CPU build: "
            f"pip install '{TORCH_REQUIREMENT}' --index-url https://download.pytorch.org/whl/cpu), once; "
            f"or import the converted .onnx with `python -m tools.download_models --from DIR`") from error
    try:
        state = torch.load(pth, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable or refused pickle is the same failure to the user
        raise MinifasnetConversionError(f"{pth} is not a readable PyTorch state dict: {error}") from error
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise MinifasnetConversionError(f"{pth} holds no state dict of tensors")
    return state


def to_onnx_bytes(pth: Path) -> bytes:
    """The ONNX model (opset 17, dynamic batch) of the MiniFASNet in ``pth``."""
    state = load_state(pth)  # first: it says how to get PyTorch when it is missing
    import torch

    from srcext.minifasnet.architecture import build

    try:
        model = build(state)
    except (KeyError, RuntimeError) as error:
        raise MinifasnetConversionError(f"{pth} is not a MiniFASNet state dict: {error}") from error
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated; it needs no onnxscript
        torch.onnx.export(model, (torch.zeros(1, 3, 80, 80),), buffer,  # type: ignore[arg-type]  # file objects work
                          dynamo=False, opset_version=OPSET,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    return buffer.getvalue()


def convert_cached(pth: Path, out_dir: Path | None = None) -> Path:
    """The path of an up-to-date ``<name>.onnx`` for ``pth``, converting first when needed.

    A sidecar records the sha256 of the weights and of the ONNX file and the converter version; any change
    rebuilds, and an up-to-date file needs no PyTorch.
    """
    pth = Path(pth)
    target = Path(out_dir or pth.parent) / (pth.stem + ".onnx")
    record = {"converter": "srcext.minifasnet", "converter_version": CONVERTER_VERSION,
              "weights": pth.name, "weights_sha256": sha256_file(pth)}
    try:
        if convert_if_needed(target, record, lambda: to_onnx_bytes(pth)):
            log.info("converted %s to %s", pth.name, target)
    except OSError as error:
        raise MinifasnetConversionError(f"cannot write {target} ({error})") from error
    return target
