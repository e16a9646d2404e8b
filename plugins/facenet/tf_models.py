"""CompreFace's TensorFlow-format models of the ``facenet`` family, and their conversion to ONNX.

Each model is the zip CompreFace downloads from Google Drive (``<name>.zip`` holding ``<name>/<name>.pb`` and
the release's checkpoint files); the store keeps only the frozen graph, taken from the zip. The sha256 is
recorded on first download (none is published). The graph is converted by ``srcext.tensorflow`` on first use
and the ONNX file kept beside it."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from facecore.model_store import ModelNotAvailable
from facecore.plugin_api import ModelFile, ModelSpec

FACENET_LICENCE = "MIT (davidsandberg/facenet); trained on VGGFace2 / CASIA-WebFace, whose terms apply"
MASKED_LICENCE = "CompreFace (Apache-2.0) fine-tune of facenet's CASIA-WebFace model on masked faces"


def frozen_graph(name: str, gdrive_id: str, licence: str, coefficients: tuple[float, float],
                 **options: Any) -> ModelSpec:
    """A model whose file is ``<name>.pb`` inside CompreFace's ``<name>.zip`` on Google Drive."""
    return ModelSpec(name, (ModelFile(f"{name}.pb", f"gdrive:{gdrive_id}", member=f"{name}.pb"),), licence,
                     coefficients, options={"graph": f"{name}.pb", **options})


#: CompreFace's ``facenet.Calculator`` models (Drive ids and similarity coefficients from its code).
CALCULATORS = (
    frozen_graph("20180402-114759", "1im5Qq006ZEV_tViKh3cgia_Q4jJ13bRK", FACENET_LICENCE,
                 (1.1817961, 5.291995557)),
    frozen_graph("20180408-102900", "100w4JIUz44Tkwte9F-wEH0DOFsY-bPaw", FACENET_LICENCE,
                 (1.1362496, 5.803152427)),
    frozen_graph("inception_resnetv1_casia_masked", "1FddVjS3JbtUOjgO0kWs43CAh0nJH2RrG", MASKED_LICENCE,
                 (1.1145709, 4.554903071)),
)


def converted(spec: ModelSpec, graph: Path, inputs: Mapping[str, Sequence[int]], outputs: Sequence[str],
              constants: Mapping[str, Any]) -> Path:
    """The ONNX conversion of a frozen graph, made beside it on first use and reused while it matches."""
    from srcext.tensorflow import TensorflowConversionError, convert_cached

    try:
        return convert_cached(graph, inputs, outputs, constants, out_dir=graph.parent)
    except TensorflowConversionError as error:
        raise ModelNotAvailable(spec.name, graph.name, f"TensorFlow->ONNX conversion failed: {error}") from error
