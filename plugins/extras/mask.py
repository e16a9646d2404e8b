"""``extras.MaskDetector@aizoo`` (slug ``mask``): AIZOO's face-mask detector, MIT: free for commercial use.

``{"mask": {"value": "with_mask" | "without_mask", "probability": p}}``, CompreFace's values (its own mask
models, trained on MAFA, are for research only and add ``mask_weared_incorrect``, which this model does not
know). The TensorFlow frozen graph is converted to ONNX once by ``srcext.tensorflow`` (no TensorFlow needed).
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

from facecore import plugin_api as api
from facecore.model_store import ModelNotAvailable
from plugins.extras.catalogue import AIZOO
from plugins.extras.mask_model import INPUT_SIDE, MaskModel

GRAPH_INPUT = "data_1"
GRAPH_OUTPUTS = ("loc_branch_concat_1/concat", "cls_branch_concat_1/concat")


class MaskDetector(api.FacePlugin):
    name = "extras.MaskDetector"
    slug: ClassVar[str] = "mask"
    models = AIZOO
    requires_detection = True  # it looks at the face's neighbourhood
    thread_safe = True  # one ONNX Runtime session; crops are made per call

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.network: MaskModel | None = None

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session
        from srcext.tensorflow import TensorflowConversionError, convert_cached

        assert self.model is not None
        graph = ctx.models.file(self.model.files[0].filename)
        try:
            onnx = convert_cached(graph, {GRAPH_INPUT: [-1, INPUT_SIDE, INPUT_SIDE, 3]}, list(GRAPH_OUTPUTS))
        except TensorflowConversionError as error:
            raise ModelNotAvailable(self.model.name, graph.name, f"TensorFlow->ONNX conversion failed: {error}") \
                from error
        self.network = MaskModel.open(onnx, ctx.device)
        self.device_description = describe_session(self.network.session)

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        answers = self.loaded(self.network).predict([f.image for f in faces], [f.detection.box for f in faces])
        return [{"mask": {"value": a.value, "probability": a.probability}} for a in answers]
