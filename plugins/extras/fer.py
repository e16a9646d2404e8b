"""``extras.EmotionDetector`` (slug ``emotion``), ``extras.EmotionScores`` (slug ``emotions``) and
``extras.GenderDetector`` (slug ``gender``): the FER2013 mini-XCEPTION models (MIT).

``emotion``: ``{"value": "happy", "probability": p}``, the top of 7 classes; ``emotions``: all 7 scores, for
clients that ask for them. Both share one model run per face (cached on the face). ``gender``:
``{"value": "male" | "female", "probability": p}``, as CompreFace's gender plugins answer.
"""
from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np

from facecore import plugin_api as api
from facecore.model_store import ModelNotAvailable
from plugins.extras.catalogue import FER_EMOTION, FER_GENDER
from plugins.extras.fer_model import EXPRESSIONS, GENDERS, FerClassifier, Margin


def convert_keras(spec: api.ModelSpec, ctx: api.LoadContext) -> Any:
    """The ONNX file of the Keras model of ``spec`` (converted once, beside it)."""
    from srcext.keras import convert_cached
    from srcext.tensorflow import TensorflowConversionError

    source = ctx.models.file(spec.files[0].filename)
    try:
        return convert_cached(source)
    except ImportError as error:
        raise ModelNotAvailable(spec.name, spec.files[0].filename, f"reading Keras HDF5 files needs h5py, once "
                                f"(pip install 'face-core[tools]'): {error}") from error
    except TensorflowConversionError as error:
        raise ModelNotAvailable(spec.name, spec.files[0].filename, f"Keras->ONNX conversion failed: {error}") \
            from error


class _LazyRows:
    """Runs the classifier once, over every face of the batch, the first time a face's cache misses."""

    def __init__(self, classifier: FerClassifier, faces: Sequence[api.Face]) -> None:
        self.classifier, self.faces = classifier, list(faces)
        self.rows: np.ndarray | None = None

    def row_for(self, face: api.Face) -> np.ndarray:
        if self.rows is None:
            self.rows = self.classifier.scores([f.image for f in self.faces], [f.detection.box for f in self.faces])
        return self.rows[next(i for i, f in enumerate(self.faces) if f is face)]


class _FerPlugin(api.FacePlugin):
    """Loads one mini-XCEPTION; subclasses say how to answer from its score rows."""

    requires_detection = True  # the crop is built around the detected box
    thread_safe = True  # one ONNX Runtime session; each batch keeps its own rows

    def __init__(self, model: api.ModelSpec | None = None) -> None:
        super().__init__(model)
        self.classifier: FerClassifier | None = None

    def load(self, ctx: api.LoadContext) -> None:
        from facecore.device import describe_session

        assert self.model is not None
        margin = Margin(*self.model.options["margin"])
        self.classifier = FerClassifier.open(convert_keras(self.model, ctx), margin, ctx.device)
        self.device_description = describe_session(self.classifier.session)

    def scores(self, faces: Sequence[api.Face]) -> np.ndarray:
        """(N, classes) scores, computed once per face and model even when two slugs ask."""
        classifier = self.loaded(self.classifier)
        assert self.model is not None
        batch = _LazyRows(classifier, faces)
        return np.stack([face.crop(f"extras_fer:{self.model.name}", batch.row_for) for face in faces])


class EmotionDetector(_FerPlugin):
    name = "extras.EmotionDetector"
    slug: ClassVar[str] = "emotion"
    models = FER_EMOTION
    store_slug = "emotion"

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"emotion": {"value": EXPRESSIONS[int(row.argmax())], "probability": float(row.max())}}
                for row in self.scores(faces)]


class EmotionScores(_FerPlugin):
    name = "extras.EmotionScores"
    slug: ClassVar[str] = "emotions"
    models = FER_EMOTION
    store_slug = "emotion"  # the same download as extras.EmotionDetector

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"emotions": {name: float(value) for name, value in zip(EXPRESSIONS, row)}}
                for row in self.scores(faces)]


class GenderDetector(_FerPlugin):
    name = "extras.GenderDetector"
    slug: ClassVar[str] = "gender"
    models = FER_GENDER

    def analyze(self, faces: Sequence[api.Face]) -> list[dict[str, Any]]:
        return [{"gender": {"value": GENDERS[int(row.argmax())], "probability": float(row.max())}}
                for row in self.scores(faces)]
