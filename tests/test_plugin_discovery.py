"""Plugin selection and discovery: names, models, errors, and a pip-installed third-party package."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from src import hookimpl
from src.config import Settings
from src.errors import StartupError
from src.pipeline import Pipeline
from src.plugin_api import FacePlugin
from src.plugin_manager import PluginRegistry, build_plugin_manager
from tests import fakes
from tests.fakes import fake_registry

EXAMPLE = Path(__file__).parent / "example_plugin"


def test_names_are_entry_point_dot_class():
    assert "fake.FaceDetector" in fake_registry().names()


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


def test_duplicate_names_refused():
    class Twice:
        @hookimpl
        def register_plugins(self):
            return [fakes.AgeDetector, fakes.AgeDetector]
    pm = build_plugin_manager(load_entrypoints=False, modules=[("twice", Twice())])
    with pytest.raises(StartupError, match="duplicate plugin name 'twice.AgeDetector'"):
        PluginRegistry.from_manager(pm)


def test_each_package_is_its_own_namespace():
    pm = build_plugin_manager(load_entrypoints=False, modules=[("fake", fakes.fake_module())])

    class Again:
        @hookimpl
        def register_plugins(self):
            return [fakes.AgeDetector]
    pm.register(Again(), name="again")
    registry = PluginRegistry.from_manager(pm)
    assert "again.AgeDetector" in registry.names()  # another package's name is its own namespace
    assert issubclass(registry.classes["again.AgeDetector"], FacePlugin)


def test_builtin_packages_register_through_entry_points():
    from importlib.metadata import entry_points
    names = {ep.name for ep in entry_points(group="facecore.plugins")}
    assert {"facenet", "dlib", "insightface", "opencv"} <= names


@pytest.mark.integration
def test_third_party_package_installed_with_pip_is_selected_by_environment(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(EXAMPLE)], check=True)
    script = (
        "import json; from src.app import create_app; "
        "c = create_app().test_client(); "
        "print(json.dumps(c.get('/status').get_json()))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(Path(__file__).parents[1])]),
           "FACE_DETECTION_PLUGIN": "example.CentreDetector", "CALCULATION_PLUGIN": "dlib.Calculator",
           "EXTRA_PLUGINS": "", "WARM_UP": "false", "FACECORE_LOAD_PLUGINS": "example,dlib"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    status = json.loads(done.stdout.strip().splitlines()[-1])
    assert status["available_plugins"]["detector"] == "example.CentreDetector"
