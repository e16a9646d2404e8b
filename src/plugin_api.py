"""The plugin contract: the small, typed surface every detector, calculator and face plugin implements.

Plugins are discovered through entry points (see :mod:`facecore.plugin_manager`); after start-up the core
calls these typed methods directly, so pluggy is only the discovery layer.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Sequence, TypeVar

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from facecore.device import Device
    from facecore.model_store import PluginModels

JSONValue = Any


# --------------------------------------------------------------------------------------------- models
@dataclass(frozen=True)
class ModelFile:
    """One file of a model and where it comes from.

    ``source`` is an ``https://`` URL, ``gdrive:<id>`` (a Google Drive file id) or
    ``package:<module>/<path>`` for weights shipped inside a pip package, or ``local`` for a model of
    the user's own that must already be in the store. ``member`` names the file
    inside a zip archive when the source is an archive.
    """

    filename: str
    source: str
    sha256: str | None = None
    size: int | None = None
    member: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A named model of a plugin: its files, licence and (for calculators) similarity coefficients."""

    name: str
    files: tuple[ModelFile, ...]
    licence: str = "unknown"
    similarity_coefficients: tuple[float, float] | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    #: The same model in another form under the same name (CompreFace's MXNet zip for an ONNX pack member):
    #: used when only its files are in the store or in an import folder; downloads fetch ``files``.
    alternative: "ModelSpec | None" = None


@dataclass(frozen=True)
class LoadContext:
    """What the core hands to :meth:`Plugin.load`: this plugin's part of the model store (already rooted at
    ``MODELS_ROOT/<backend>/<slug>/<model>``) and where to run."""

    models: "PluginModels"
    device: "Device"
    settings: Mapping[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- faces
@dataclass(frozen=True)
class BoundingBox:
    """A face box in pixels of the image it was found in (floats; truncated only on the wire)."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float

    @property
    def width(self) -> float:
        return self.x_max - self.x_min

    @property
    def height(self) -> float:
        return self.y_max - self.y_min

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def scaled(self, factor: float) -> "BoundingBox":
        return BoundingBox(self.x_min * factor, self.y_min * factor, self.x_max * factor, self.y_max * factor)

    def clipped(self, width: int, height: int) -> "BoundingBox":
        return BoundingBox(
            min(max(self.x_min, 0.0), width), min(max(self.y_min, 0.0), height),
            min(max(self.x_max, 0.0), width), min(max(self.y_max, 0.0), height),
        )


Point = tuple[float, float]


def as_points(points: Any) -> tuple[Point, ...]:
    """Any (N, 2) array-like (a numpy array, a list of pairs) as a tuple of ``(x, y)`` float pairs."""
    return tuple((float(x), float(y)) for x, y in np.asarray(points, dtype=np.float64).reshape(-1, 2))


@dataclass(frozen=True)
class DetectedFace:
    """What a detector returns for one face: a value (it compares and hashes).

    ``landmarks`` is five ``(x, y)`` points in the order left eye, right eye, nose, left mouth corner, right
    mouth corner (left = smaller x in the image), or ``None`` when the detector gives none. An array given
    here is stored as tuples (:func:`as_points`); ``np.asarray(face.landmarks)`` gives the (5, 2) array back.
    """

    box: BoundingBox
    probability: float
    landmarks: tuple[Point, ...] | None = None

    def __post_init__(self) -> None:
        if self.landmarks is not None:
            object.__setattr__(self, "landmarks", as_points(self.landmarks))

    def scaled(self, factor: float) -> "DetectedFace":
        marks = None if self.landmarks is None else as_points(np.asarray(self.landmarks) * factor)
        return DetectedFace(self.box.scaled(factor), self.probability, marks)


class Face:
    """One face of one request, as the face plugins see it.

    Holds the original full-resolution RGB image, the detection, and a per-face cache of crops so that
    two plugins that need the same alignment (say ArcFace's 112x112 crop) share one computation.
    """

    __slots__ = ("image", "detection", "whole_image", "_crops", "_making")

    def __init__(self, image: np.ndarray, detection: DetectedFace, *, whole_image: bool = False) -> None:
        self.image = image
        self.detection = detection
        self.whole_image = whole_image  # detect_faces=false: the image itself is the face
        self._crops: dict[str, Any] = {}
        self._making: dict[str, threading.Lock] = {}

    def crop(self, key: str, make: Callable[["Face"], Any]) -> Any:
        """Return the crop named ``key``, computing it once per face with ``make(face)``.

        Plugins of one request may run in several threads (``FACE_THREADS``): a second caller of the same
        key waits for the first one's crop instead of computing it again.
        """
        if key in self._crops:
            return self._crops[key]
        with self._making.setdefault(key, threading.Lock()):  # setdefault is atomic: one lock per key
            if key not in self._crops:
                self._crops[key] = make(self)
        return self._crops[key]


# --------------------------------------------------------------------------------------------- plugins
#: A declared plugin name: two or three dotted parts of letters, digits and '_' (the first names the model
#: family and its folder under MODELS_ROOT), e.g. ``insightface.Calculator``, ``facenet.facemask.MaskDetector``.
PLUGIN_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){1,2}$")
LoadedT = TypeVar("LoadedT")


class Plugin:
    """Base of every plugin class.

    Subclasses set ``name``, ``slug`` and ``models`` (first = default) and implement :meth:`load`. The
    core instantiates one object per configured plugin and calls ``load`` once, before serving.
    """

    #: The config name (``FACE_DETECTION_PLUGIN``, ``CALCULATION_PLUGIN``, ``EXTRA_PLUGINS``), declared by
    #: every registered class itself; see :data:`PLUGIN_NAME`.
    name: ClassVar[str] = ""
    slug: ClassVar[str] = ""
    models: ClassVar[tuple[ModelSpec, ...]] = ()
    #: Plugins that make no sense without a detection (pose, mask) are skipped for detect_faces=false.
    requires_detection: ClassVar[bool] = False
    #: The store folder of this plugin's models, when several slugs share one download (age + gender).
    store_slug: ClassVar[str | None] = None
    #: True when one object may run ``detect``/``analyze`` in several threads at once; otherwise the
    #: pipeline serialises its calls (one at a time per worker process). A class attribute, or set in
    #: ``__init__`` when it depends on the model (dlib's own runtime is not, its ONNX conversion is).
    thread_safe: bool = False

    @classmethod
    def family(cls) -> str:
        """The first part of ``name``: the ``<backend>`` folder of ``MODELS_ROOT/<backend>/<slug>/<model>``."""
        return cls.name.split(".", 1)[0]

    @classmethod
    def model_folder(cls) -> str:
        """The ``<slug>`` part of ``MODELS_ROOT/<backend>/<slug>/<model>``."""
        return cls.store_slug or cls.slug

    def __init__(self, model: ModelSpec | None = None) -> None:
        self.model = model
        self.model_name_given = False  # set by the core when the config named "@model"
        self.device_description = "cpu"
        self.runtime_description: str | None = None  # "onnxruntime f32" etc., set by the core after load

    def __str__(self) -> str:
        if self.model_name_given and self.model is not None:
            return f"{self.name}@{self.model.name}"
        return self.name

    def loaded(self, value: LoadedT | None) -> LoadedT:
        """``value`` as set by :meth:`load`; raises :class:`PluginNotLoaded` when ``load`` has not set it yet.

        The one guard against use before ``load``: ``session = self.loaded(self.session)``.
        """
        if value is None:
            raise PluginNotLoaded(f"{self} used before load()")
        return value

    @classmethod
    def find_model(cls, model_name: str | None) -> ModelSpec | None:
        """The declared model called ``model_name`` (the default when ``None``), or ``None``."""
        if not cls.models:
            return None
        if model_name is None:
            return cls.models[0]
        return next((m for m in cls.models if m.name == model_name), None)

    @classmethod
    def model_names(cls) -> list[str]:
        return [m.name for m in cls.models]

    def load(self, ctx: LoadContext) -> None:
        """Load weights and place them on ``ctx.device``. Default: nothing to load."""

    def warm_up(self, image: np.ndarray) -> None:
        """Run once on a real image so that the first request is not slower. Default: nothing."""

    def describe(self) -> dict[str, JSONValue]:
        """Extra facts for ``/status`` (device, providers, licence)."""
        info: dict[str, JSONValue] = {"device": self.device_description}
        if self.runtime_description:
            info["runtime"] = self.runtime_description
        if self.model is not None:
            info["model"] = self.model.name
            info["licence"] = self.model.licence
        return info


class FaceDetector(Plugin):
    """Finds faces. ``detect`` works in the pixels of the image it is given; the core downscales the
    request image first and maps the result back to original pixels."""

    slug: ClassVar[str] = "detector"
    #: the detector's own det_prob_threshold default; a detector may refine it per model in __init__ or load()
    default_threshold: float = 0.8

    def detect(self, image: np.ndarray, threshold: float) -> list[DetectedFace]:
        raise NotImplementedError


class FacePlugin(Plugin):
    """Computes one JSON fragment per face for a batch of faces (all faces of one image at once)."""

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        raise NotImplementedError


class Calculator(FacePlugin):
    """Embeds faces. The JSON fragment is ``{"embedding": [...]}``."""

    slug: ClassVar[str] = "calculator"

    def embed(self, faces: Sequence[Face]) -> np.ndarray:
        """Return an (N, D) float32 array, one row per face."""
        raise NotImplementedError

    @property
    def similarity_coefficients(self) -> tuple[float, float]:
        if self.model is not None and self.model.similarity_coefficients is not None:
            return self.model.similarity_coefficients
        return (0.0, 1.0)

    def analyze(self, faces: Sequence[Face]) -> list[dict[str, JSONValue]]:
        vectors = self.embed(faces)
        return [{"embedding": row} for row in np.asarray(vectors, dtype=np.float32)]

    def warm_up(self, image: np.ndarray) -> None:
        """Embed the whole image once, as one face: the first run of a session sets it up."""
        box = BoundingBox(0, 0, image.shape[1], image.shape[0])
        self.embed([Face(image, DetectedFace(box, 1.0), whole_image=True)])


class PluginError(Exception):
    """A plugin failed while computing a result."""


class PluginNotLoaded(PluginError):
    """A plugin was called before its :meth:`Plugin.load` ran (a bug in the caller, not in a request)."""
