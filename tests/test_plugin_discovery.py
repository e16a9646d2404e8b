"""Plugin selection and discovery: names, models, errors, and a pip-installed third-party package."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from facecore import hookimpl
from facecore.config import Settings
from facecore.errors import StartupError
from facecore.pipeline import Pipeline
from facecore.plugin_api import FacePlugin
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from tests import fakes
from tests.fakes import fake_registry

EXAMPLE = Path(__file__).parent / "example_plugin"


def test_names_are_the_ones_plugins_declare():
    assert "fake.FaceDetector" in fake_registry().names()
    assert str(fake_registry().create("fake.FaceDetector")) == fakes.FaceDetector.name


def registry_of(*packages: tuple[str, list[type]]) -> PluginRegistry:
    modules = []
    for package, classes in packages:
        module = type(package, (), {"register_plugins": hookimpl(lambda self, found=classes: found)})()
        modules.append((package, module))
    return PluginRegistry.from_manager(build_plugin_manager(load_entrypoints=False, modules=modules))


def test_a_three_part_dotted_name_is_selectable_with_its_model():
    class MaskDetector(FacePlugin):
        name = "facenet.facemask.MaskDetector"
        slug = "mask"
        models = (fakes.Calculator.models[0],)
    plugin = registry_of(("masks", [MaskDetector])).create("facenet.facemask.MaskDetector@m1")
    assert isinstance(plugin, MaskDetector) and str(plugin) == "facenet.facemask.MaskDetector@m1"
    assert plugin.family() == "facenet"


@pytest.mark.parametrize("name", [None, "", "Single", "a.b.c.d", "a..b", "a.b-c", "9a.b", "a.b.", " a.b"])
def test_a_missing_or_malformed_name_stops_the_start_naming_the_package(name):
    attributes = {"slug": "thing"} if name is None else {"slug": "thing", "name": name}
    nameless = type("Thing", (FacePlugin,), attributes)
    with pytest.raises(StartupError, match=r"plugin package 'pkg' registered .*Thing, which declares no valid name"):
        registry_of(("pkg", [nameless]))


def test_a_name_is_not_inherited():
    class Subclass(fakes.AgeDetector):
        """Declares no name of its own: registering it must not silently reuse fake.AgeDetector."""
    with pytest.raises(StartupError, match="declares no valid name"):
        registry_of(("pkg", [Subclass]))


def test_model_selection_and_version_string():
    registry = fake_registry()
    assert str(registry.create("fake.Calculator")) == "fake.Calculator"
    assert registry.create("fake.Calculator").model.name == "m1"
    chosen = registry.create("fake.Calculator@m2")
    assert str(chosen) == "fake.Calculator@m2" and chosen.similarity_coefficients == (1.2, 6.0)


@pytest.mark.parametrize("selection,message", [
    ("nope.Thing", "unknown plugin 'nope.Thing'"),
    ("fake.Calculator@m9", "unknown model 'm9' for fake.Calculator; choices: m1, m2"),
    ("fake.AgeDetector@x", "takes no model"),
])
def test_bad_selections_are_clear(selection, message):
    with pytest.raises(StartupError, match=message.replace(".", r"\.")):
        fake_registry().create(selection)


def test_kind_is_checked():
    with pytest.raises(StartupError, match="is not a FaceDetector"):
        Pipeline.from_settings(Settings(detector="fake.Calculator", calculator="fake.Calculator", extras=()),
                               fake_registry())


def test_duplicate_slugs_refused():
    settings = Settings(detector="fake.FaceDetector", calculator="fake.Calculator",
                        extras=("fake.AgeDetector", "fake.AgeDetector"))
    with pytest.raises(StartupError, match="slug 'age'"):
        Pipeline.from_settings(settings, fake_registry())


def test_hook_typo_fails_at_start():
    class Typo:
        @hookimpl
        def register_plugin(self):  # missing "s"
            return []
    with pytest.raises(Exception, match="register_plugin"):
        build_plugin_manager(load_entrypoints=False, modules=[("typo", Typo())])


def test_non_plugin_class_refused():
    class Bad:
        @hookimpl
        def register_plugins(self):
            return [dict]
    pm = build_plugin_manager(load_entrypoints=False, modules=[("bad", Bad())])
    with pytest.raises(StartupError, match="not a Plugin subclass"):
        PluginRegistry.from_manager(pm)


def test_one_name_declared_by_two_packages_stops_the_start_naming_both():
    class Copy(FacePlugin):
        name = "fake.AgeDetector"
        slug = "age"
    with pytest.raises(StartupError, match=r"plugin name 'fake\.AgeDetector' is declared twice: by "
                                           r"tests\.fakes\.AgeDetector in package 'fake' and by .*Copy in "
                                           r"package 'other'"):
        registry_of(("fake", [fakes.AgeDetector]), ("other", [Copy]))


def test_builtin_packages_register_through_entry_points():
    from importlib.metadata import entry_points
    names = {ep.name for ep in entry_points(group="facecore.plugins")}
    assert {"facenet", "dlib", "insightface", "opencv"} <= names


@pytest.mark.integration
def test_third_party_package_installed_with_pip_is_selected_by_environment(tmp_path):
    """The example package (docs/writing-plugins.md) pip-installs, registers a three-part name, loads its
    model file from its own pip package, warms up and serves."""
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(EXAMPLE)], check=True)
    script = (
        "import io, json; import numpy as np; from PIL import Image; from facecore.app import create_app; "
        "c = create_app().test_client(); "
        "out = io.BytesIO(); Image.fromarray(np.full((40, 60, 3), (200, 100, 50), np.uint8)).save(out, 'PNG'); "
        "found = c.post('/find_faces?face_plugins=brightness', data={'file': (io.BytesIO(out.getvalue()), 'x.png')}, "
        "content_type='multipart/form-data'); "
        "print(json.dumps({'status': c.get('/status').get_json(), 'found': found.get_json()}))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(Path(__file__).parents[1])]),
           "FACE_DETECTION_PLUGIN": "example.CentreDetector", "CALCULATION_PLUGIN": "dlib.Calculator",
           "EXTRA_PLUGINS": "example.brightness.BrightnessEstimator", "WARM_UP": "true",
           "MODELS_ROOT": str(tmp_path / "models"), "FACECORE_LOAD_PLUGINS": "example,dlib"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"]["available_plugins"]["detector"] == "example.CentreDetector"
    assert answer["status"]["available_plugins"]["brightness"] == "example.brightness.BrightnessEstimator"
    [face] = answer["found"]["result"]
    assert face["brightness"] == round(0.299 * 200 + 0.587 * 100 + 0.114 * 50, 2)
