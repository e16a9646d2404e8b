"""Environment settings: defaults, list syntax, and one clear line for each bad value."""
from __future__ import annotations

import pytest

from facecore.config import DEFAULTS, load_settings, split_list
from facecore.errors import StartupError


def test_defaults():
    settings = load_settings({})
    assert settings.port == 3000 and settings.gpu_idx == -1 and settings.img_length_limit == 640
    assert settings == DEFAULTS.with_overrides(onnx_threads=settings.onnx_threads, models_root=settings.models_root)
    assert settings.extras == DEFAULTS.extras and settings.build_version == "dev"


def test_lists_split_on_commas_and_spaces():
    assert split_list(" a.B, c.D  e.F,,") == ("a.B", "c.D", "e.F")
    assert load_settings({"EXTRA_PLUGINS": "x.Y z.W"}).extras == ("x.Y", "z.W")


def test_empty_extra_plugins_means_none():
    assert load_settings({"EXTRA_PLUGINS": ""}).extras == ()


def test_version_string():
    assert load_settings({"APP_VERSION_STRING": "1.2.3"}).build_version == "1.2.3"


@pytest.mark.parametrize("env,fragment", [
    ({"ML_PORT": "abc"}, "ML_PORT='abc' is not an integer"),
    ({"ML_PORT": "70000"}, "ML_PORT=70000"),
    ({"GPU_IDX": "-2"}, "GPU_IDX='-2' must be >= -1"),
    ({"IMG_LENGTH_LIMIT": "big"}, "IMG_LENGTH_LIMIT='big'"),
    ({"LOGGING_LEVEL_NAME": "loud"}, "choices: debug, info, warning, error, critical"),
    ({"MODELS_OFFLINE": "maybe"}, "choices: true, false"),
    ({"FACE_THREADS": "0"}, "FACE_THREADS='0' must be >= 1"),
])
def test_bad_values_name_variable_value_and_choices(env, fragment):
    with pytest.raises(StartupError) as error:
        load_settings(env)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_default_threshold_override():
    assert load_settings({"DET_PROB_THRESHOLD": "0.7"}).det_prob_threshold == 0.7
    assert load_settings({}).det_prob_threshold is None
    with pytest.raises(StartupError, match="DET_PROB_THRESHOLD='2' is not a number in"):
        load_settings({"DET_PROB_THRESHOLD": "2"})


def test_onnx_threads_share_the_cores_among_workers(monkeypatch):
    import facecore.config

    monkeypatch.setattr(facecore.config, "available_cpus", lambda: 8)  # the container's CPUs (tests/test_cpu_budget.py)
    assert load_settings({"ONNX_THREADS": "3"}).onnx_threads == 3
    assert load_settings({"UWSGI_PROCESSES": "4"}).onnx_threads == 2
    assert load_settings({"UWSGI_PROCESSES": "16"}).onnx_threads == 1
    assert load_settings({}).onnx_threads == 8


def test_face_threads():
    assert load_settings({}).face_threads == 2
    assert load_settings({"FACE_THREADS": "1"}).face_threads == 1
