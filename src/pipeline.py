"""The face pipeline: detect -> sort -> limit -> the requested plugins, batched per image.

One object per worker process, built from the settings and loaded before the first request. It keeps
no per-request state, so concurrent requests (threads) cannot leak into each other.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from facecore.batching import MicroBatcher
from facecore.config import DEFAULTS, Settings
from facecore.device import Device
from facecore.errors import NoFaceFound, StartupError
from facecore.imaging import downscale
from facecore.inference_runtime import runtimes_noted
from facecore.model_store import ModelNotAvailable, ModelStore
from facecore.parallel import TaskRunner, return_freed_memory
from facecore.plugin_api import (
    BoundingBox,
    Calculator,
    DetectedFace,
    Face,
    FaceDetector,
    FacePlugin,
    Plugin,
    PluginError,
)
from facecore.plugin_manager import PluginRegistry

log = logging.getLogger(__name__)


@dataclass
class FaceResult:
    """One face of a response: its detection, the plugins' JSON fragments and per-face timings (ms)."""

    detection: DetectedFace
    fragments: dict[str, Any] = field(default_factory=dict)
    execution_time: dict[str, int] = field(default_factory=dict)


@dataclass
class FindFacesResult:
    faces: list[FaceResult]
    plugins_versions: dict[str, str]


def _create(registry: PluginRegistry, variable: str, selection: str, kind: type[Plugin]) -> Plugin:
    """``registry.create`` whose error names the setting that chose the plugin."""
    try:
        return registry.create(selection, kind)
    except StartupError as error:
        raise StartupError(f"{variable}={selection}: {error}") from None


def elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def merge_fragment(fragments: dict[str, Any], owned: set[str], slug: str, fragment: dict[str, Any]) -> None:
    """Add one plugin's JSON fragment to a face's. A key named like the plugin's slug is its own and always set;
    another key (``landmarks`` from the 68- or 106-point plugin, for CompreFace's UI and API server, which read
    only ``landmarks``) is set only while no plugin owns it and no earlier plugin set it: the 5-point plugin's
    ``landmarks`` wins whatever the order of ``face_plugins``."""
    for key, value in fragment.items():
        if key == slug:
            fragments[key] = value
            owned.add(key)
        elif key not in owned and key not in fragments:
            fragments[key] = value


class Pipeline:
    """The configured detector, calculator and extra face plugins, and how a request runs through them."""

    def __init__(self, detector: FaceDetector, calculator: Calculator, extras: Sequence[FacePlugin],
                 img_length_limit: int = DEFAULTS.img_length_limit, default_threshold: float | None = None,
                 batch_wait_ms: int = DEFAULTS.batch_wait_ms, batch_max_faces: int = DEFAULTS.batch_max_faces,
                 face_chunk: int = DEFAULTS.face_chunk, face_threads: int = DEFAULTS.face_threads) -> None:
        self.detector = detector
        self.calculator = calculator
        self.face_plugins: dict[str, FacePlugin] = {calculator.slug: calculator}
        for plugin in extras:
            if plugin.slug in self.face_plugins or plugin.slug == detector.slug:
                raise StartupError(f"two configured plugins have the slug {plugin.slug!r}: "
                                   f"{self.face_plugins.get(plugin.slug, detector)} and {plugin}")
            self.face_plugins[plugin.slug] = plugin
        self.img_length_limit = img_length_limit
        self.face_chunk = face_chunk
        self._runner = TaskRunner(face_threads)  # one request's face-plugin batches, on this many threads
        self.threshold_override = default_threshold
        self.ready = False
        #: one lock per plugin that does not declare itself thread-safe: it is never entered twice at once
        self._guards: dict[int, AbstractContextManager[Any]] = {
            id(p): nullcontext() if p.thread_safe else threading.Lock() for p in self.plugins}
        self._batchers = {slug: MicroBatcher(plugin, batch_wait_ms, batch_max_faces, self._guards[id(plugin)])
                          for slug, plugin in self.face_plugins.items()} if batch_wait_ms > 0 else {}
        #: called as listener(plugin, milliseconds, faces) after every plugin call (metrics hook)
        self.timing_listeners: list[Callable[[Plugin, float, int], None]] = []

    @property
    def default_threshold(self) -> float:
        """DET_PROB_THRESHOLD when set, else the detector's own (read live: a detector may set it in load())."""
        return self.detector.default_threshold if self.threshold_override is None else self.threshold_override

    # ----------------------------------------------------------------------------------- building
    @classmethod
    def from_settings(cls, settings: Settings, registry: PluginRegistry) -> "Pipeline":
        detector = _create(registry, "FACE_DETECTION_PLUGIN", settings.detector, FaceDetector)
        calculator = _create(registry, "CALCULATION_PLUGIN", settings.calculator, Calculator)
        extras = [_create(registry, "EXTRA_PLUGINS", name, FacePlugin) for name in settings.extras]
        for extra in extras:
            if isinstance(extra, Calculator):
                raise StartupError(f"EXTRA_PLUGINS names a calculator ({extra}); set it in CALCULATION_PLUGIN")
        return cls(detector, calculator, extras, settings.img_length_limit,  # type: ignore[arg-type]
                   settings.det_prob_threshold, settings.batch_wait_ms, settings.batch_max_faces,
                   settings.face_chunk, settings.face_threads)

    @property
    def plugins(self) -> list[Plugin]:
        return [self.detector, *self.face_plugins.values()]

    def load(self, store: ModelStore, device: Device, settings: dict[str, Any] | None = None) -> None:
        """Load every plugin with its own part of the store; any failure stops the start with one line."""
        for plugin in self.plugins:
            load_plugin(plugin, store, device, settings)

    def warm_up(self, image: np.ndarray) -> None:
        """Run every plugin once on a real face image so the first request is as fast as the next: each
        plugin's own ``warm_up``, then ``detect`` and every face plugin's ``analyze``."""
        started = time.perf_counter()
        for plugin in self.plugins:
            with starting(plugin, "warm-up"), self._guards[id(plugin)]:
                plugin.warm_up(image)
        with starting(self.detector, "warm-up"):
            faces = self.detect(image, self.default_threshold) or [self._whole_image_face(image)]
        for slug, plugin in self.face_plugins.items():
            with starting(plugin, "warm-up"):
                self.run_plugins(image, faces[:1], [slug])
        self.ready = True
        log.info("warmed up in %.0f ms", elapsed_ms(started))

    # ----------------------------------------------------------------------------------- requests
    def status(self) -> dict[str, Any]:
        return {
            "available_plugins": {p.slug: str(p) for p in self.plugins},
            "calculator_version": str(self.calculator),
            "similarity_coefficients": list(self.calculator.similarity_coefficients),
        }

    def select(self, requested: Iterable[str], detect_faces: bool = True) -> list[FacePlugin]:
        """The configured plugins among ``requested`` slugs (unknown slugs are ignored, as in CompreFace)."""
        chosen = []
        for slug in dict.fromkeys(requested):
            plugin = self.face_plugins.get(slug)
            if plugin is not None and (detect_faces or not plugin.requires_detection):
                chosen.append(plugin)
        return chosen

    def unknown(self, requested: Iterable[str]) -> list[str]:
        """The requested slugs no configured plugin answers to (CompreFace ignores them; we say so)."""
        return [slug for slug in dict.fromkeys(requested) if slug not in self.face_plugins]

    def detect(self, image: np.ndarray, threshold: float) -> list[DetectedFace]:
        """Faces with probability > threshold, in original pixels, largest box first."""
        small, scale = downscale(image, self.img_length_limit)
        started = time.perf_counter()
        found = self._call(self.detector, lambda: self.detector.detect(small, threshold))
        self._report(self.detector, elapsed_ms(started), len(found))
        height, width = image.shape[:2]
        faces = []
        for face in found:
            if not face.probability > threshold:
                continue
            face = face.scaled(scale) if scale != 1.0 else face
            faces.append(DetectedFace(face.box.clipped(width, height), float(face.probability), face.landmarks))
        faces.sort(key=lambda f: f.box.area, reverse=True)
        return faces

    def find_faces(self, image: np.ndarray, *, threshold: float | None, limit: int, slugs: Iterable[str],
                   detect_faces: bool = True) -> FindFacesResult:
        plugins = self.select(slugs, detect_faces)
        if detect_faces:
            started = time.perf_counter()
            detections = self.detect(image, self.default_threshold if threshold is None else threshold)
            detector_ms = elapsed_ms(started)
            if not detections:
                raise NoFaceFound()
            if limit:
                detections = detections[:limit]  # before any plugin runs: work only for what is returned
        else:
            detections, detector_ms = [self._whole_image_face(image)], 0.0
        results = self.run_plugins(image, detections, [p.slug for p in plugins], whole_image=not detect_faces)
        per_face = int(detector_ms // max(len(results), 1))
        for result in results:
            result.execution_time["detector"] = per_face
        versions = {"detector": str(self.detector), **{p.slug: str(p) for p in plugins}}
        return FindFacesResult(results, versions)

    def run_plugins(self, image: np.ndarray, detections: Sequence[DetectedFace], slugs: Sequence[str],
                    whole_image: bool = False) -> list[FaceResult]:
        """Run each requested plugin over all faces, in batches of at most ``face_chunk`` faces, the batches
        spread over up to ``face_threads`` threads while cores are idle.

        Why chunks: a model's working memory grows with its batch, and an image with hundreds of faces in
        one batch took a worker from 300 MB to 3.4 GB; a bounded batch bounds it, whatever the face count.
        Why threads: see :mod:`facecore.parallel`; a thread-safe plugin's faces are also cut into one batch
        per thread, so that the biggest model (the calculator) does not keep the other threads waiting.
        """
        faces = [Face(image, d, whole_image=whole_image) for d in detections]
        results = [FaceResult(d) for d in detections]
        owned: list[set[str]] = [set() for _ in detections]
        tasks: list[Callable[[], tuple[list[dict[str, Any]], float]]] = []
        task_slugs: list[str] = []
        for slug in slugs:
            plugin = self.face_plugins[slug]
            for batches in self._task_batches(plugin, faces):
                tasks.append(functools.partial(self._analyze, plugin, batches))
                task_slugs.append(slug)
        fragments: dict[str, list[dict[str, Any]]] = {slug: [] for slug in slugs}
        spent = dict.fromkeys(slugs, 0.0)
        for slug, (answered, milliseconds) in zip(task_slugs, self._runner.run(tasks)):
            fragments[slug].extend(answered)
            spent[slug] += milliseconds
        if self._runner.threads > 1 and len(faces) > self.face_chunk:  # a big request: see return_freed_memory
            return_freed_memory()
        for slug in slugs:
            self._report(self.face_plugins[slug], spent[slug], len(faces))
            per_face = int(spent[slug] // max(len(faces), 1))
            for result, keys, fragment in zip(results, owned, fragments[slug]):
                merge_fragment(result.fragments, keys, slug, fragment)
                result.execution_time[slug] = per_face
        return results

    def _task_batches(self, plugin: FacePlugin, faces: list[Face]) -> list[list[list[Face]]]:
        """The batches of ``faces`` for ``plugin``, grouped into tasks: one task per batch for a thread-safe
        plugin, one task for all of them otherwise (its lock would keep a second thread waiting).

        A thread-safe plugin's faces are cut for ``FACE_THREADS`` threads even when the machine is busy and
        one thread runs them all: a model's float results may depend on its batch (kernels differ by batch
        size), so the cut must depend on the configuration only, never on the load of the moment."""
        size = self.face_chunk
        if plugin.thread_safe and self._runner.threads > 1:
            size = max(min(size, -(-len(faces) // self._runner.threads)), 1)
        batches = [faces[first:first + size] for first in range(0, len(faces), size)]
        return [[batch] for batch in batches] if plugin.thread_safe else [batches] if batches else []

    def _analyze(self, plugin: FacePlugin, batches: list[list[Face]]) -> tuple[list[dict[str, Any]], float]:
        """One task: ``plugin`` over each batch in turn; its JSON fragments and the milliseconds it took."""
        started = time.perf_counter()
        fragments: list[dict[str, Any]] = []
        for batch in batches:
            if plugin.slug in self._batchers:  # the batcher takes the plugin's guard itself, around the whole batch
                batcher = self._batchers[plugin.slug]
                answered = self._call(plugin, lambda: batcher.analyze(batch), nullcontext())  # noqa: B023
            else:
                answered = self._call(plugin, lambda: plugin.analyze(batch))  # noqa: B023 - called at once
            if len(answered) != len(batch):
                raise PluginError(f"{plugin} error - returned {len(answered)} results for {len(batch)} faces")
            fragments.extend(answered)
        return fragments, elapsed_ms(started)

    def _report(self, plugin: Plugin, milliseconds: float, faces: int) -> None:
        for listener in self.timing_listeners:
            listener(plugin, milliseconds, faces)

    @staticmethod
    def _whole_image_face(image: np.ndarray) -> DetectedFace:
        height, width = image.shape[:2]
        return DetectedFace(BoundingBox(0.0, 0.0, float(width), float(height)), 1.0, None)

    def _call(self, plugin: Plugin, run: Any, guard: AbstractContextManager[Any] | None = None) -> Any:
        """``run()`` inside the plugin's guard (its lock unless thread-safe); failures become a PluginError."""
        try:
            with self._guards[id(plugin)] if guard is None else guard:
                return run()
        except PluginError:
            raise
        except Exception as error:  # a plugin bug is a 500 that names the plugin, not a crash
            if self.ready:  # before that, warm_up reports it as one StartupError line
                log.exception("plugin %s failed", plugin)
            raise PluginError(f"{plugin} error - {error}") from error


def describe_failure(plugin: Plugin, stage: str, error: BaseException) -> str:
    """``<plugin> (model <m>) failed in <stage>: <cause>``, with the plugin's own exception as the cause."""
    cause = error.__cause__ if isinstance(error, PluginError) and error.__cause__ is not None else error
    model = plugin.model.name if plugin.model is not None else "none"
    detail = str(cause) or type(cause).__name__
    if not isinstance(cause, (ModelNotAvailable, StartupError)):
        detail = f"{type(cause).__name__}: {detail}"
    return f"{plugin} (model {model}) failed in {stage}: {detail}"


@contextmanager
def starting(plugin: Plugin, stage: str) -> Iterator[None]:
    """Turn any failure of ``plugin`` during ``stage`` (load, warm-up) into one :class:`StartupError` line."""
    try:
        yield
    except StartupError:
        raise
    except Exception as error:
        raise StartupError(describe_failure(plugin, stage, error)) from error


def load_plugin(plugin: Plugin, store: ModelStore, device: Device, settings: dict[str, Any] | None = None) -> None:
    """Load one plugin with its own part of the store (see :meth:`ModelStore.for_plugin`), as the server and
    the tools both do; any failure becomes one :class:`StartupError` naming the plugin, model and cause."""
    started = time.perf_counter()
    with starting(plugin, "load"), runtimes_noted() as runtimes:
        plugin.load(store.context_for(plugin, device.for_plugin(plugin.slug, plugin.name), settings))
    plugin.runtime_description = ", ".join(runtimes) or None  # the ONNX runtimes its sessions use, for /status
    log.info("loaded %s on %s in %.0f ms", plugin, plugin.device_description, elapsed_ms(started))
