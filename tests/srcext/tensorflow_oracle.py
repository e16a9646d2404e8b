"""TensorFlow 2.15 (with its Keras 2) as a test oracle, in its own venv under the oracle cache (``~/.cache/facecore-oracles/tensorflow-oracle-venv``).

Built once by the first test that needs it (a ~200 MB wheel from PyPI, a few minutes) and reused; tests skip
with the reason when it cannot be built. Arrays travel through ``.npy`` files in the test's ``tmp_path``.
oneDNN is switched off so TensorFlow runs its plain float32 kernels.
"""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from tests.srcext.oracle_venv import ORACLE_CACHE, oracle_python as venv_python

VENV = Path(os.environ.get("TENSORFLOW_ORACLE_VENV", ORACLE_CACHE / "tensorflow-oracle-venv"))
REQUIREMENTS = ("tensorflow-cpu==2.15.1", "numpy<2", "tf-slim==1.1.0")
ENV = {"TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}

GRAPH_FORWARD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    job = json.load(open(sys.argv[1]))
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(open(job["graph"], "rb").read())
    with tf.Graph().as_default() as graph:
        tf.import_graph_def(graph_def, name="")
        feeds = {name + ":0": np.load(path) for name, path in job["inputs"].items()}
        feeds.update({name + ":0": value for name, value in job["constants"].items()})
        with tf.compat.v1.Session(graph=graph) as session:
            results = session.run([name if ":" in name else name + ":0" for name in job["outputs"]], feeds)
    for index, value in enumerate(results):
        np.save(job["prefix"] + "_%d.npy" % index, value)
""")

KERAS_FORWARD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    job = json.load(open(sys.argv[1]))
    model = tf.keras.models.load_model(job["model"], compile=False)
    inputs = [np.load(path) for path in job["inputs"]]
    outputs = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    for index, value in enumerate(outputs):
        np.save(job["prefix"] + "_%d.npy" % index, np.asarray(value))
""")


def oracle_python() -> Path:
    return venv_python(VENV, REQUIREMENTS, "import tensorflow as tf; assert tf.__version__.startswith('2.15')",
                       "TensorFlow 2.15")


def run_script(code: str, *args: str, timeout: float = 600) -> str:
    """Run ``code`` in the oracle venv; returns its stdout, raises AssertionError with its stderr on failure."""
    result = subprocess.run([str(oracle_python()), "-c", code, *args], capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, **ENV})
    if result.returncode != 0:
        raise AssertionError(f"TensorFlow oracle failed:\n{result.stderr[-3000:]}")
    return result.stdout


def _results(prefix: Path) -> list[np.ndarray]:
    files = sorted(prefix.parent.glob(prefix.name + "_[0-9]*.npy"), key=lambda p: int(p.stem.rsplit("_", 1)[1]))
    return [np.load(path) for path in files]


def _save(tmp_path: Path, stem: str, arrays: Mapping[str, np.ndarray]) -> dict[str, str]:
    paths = {}
    for index, (name, array) in enumerate(arrays.items()):
        path = tmp_path / f"{stem}_in{index}.npy"
        np.save(path, np.asarray(array))
        paths[name] = str(path)
    return paths


def graph_forward(tmp_path: Path, graph: Path, inputs: Mapping[str, np.ndarray], outputs: Sequence[str],
                  constants: Mapping[str, object] | None = None) -> list[np.ndarray]:
    """Run a frozen graph in TensorFlow: ``inputs`` and ``constants`` by node name, ``outputs`` node names."""
    prefix = tmp_path / "tf_graph_out"
    job = {"graph": str(graph), "inputs": _save(tmp_path, "tf_graph", inputs), "outputs": list(outputs),
           "constants": dict(constants or {}), "prefix": str(prefix)}
    (tmp_path / "tf_graph.json").write_text(json.dumps(job))
    run_script(GRAPH_FORWARD, str(tmp_path / "tf_graph.json"))
    return _results(prefix)


def keras_forward(tmp_path: Path, model: Path, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Run a Keras model file or SavedModel directory in Keras (inference mode)."""
    prefix = tmp_path / "keras_out"
    paths = _save(tmp_path, "keras", {str(index): array for index, array in enumerate(inputs)})
    job = {"model": str(model), "inputs": list(paths.values()), "prefix": str(prefix)}
    (tmp_path / "keras.json").write_text(json.dumps(job))
    run_script(KERAS_FORWARD, str(tmp_path / "keras.json"))
    return _results(prefix)


def built_once(name: str, script: str, *args: str, done: str) -> Path:
    """Run a TF script that writes into a folder, once: the folder, under the oracle cache's ``tensorflow-oracle-models``,
    is keyed by the script's sha256 and its arguments; ``done`` is the file whose presence marks it complete."""
    import hashlib

    digest = hashlib.sha256(script.encode()).hexdigest()[:16]
    folder = VENV.parent / "tensorflow-oracle-models" / "-".join([name, *args, digest])
    if not (folder / done).exists():
        partial = folder.with_name(folder.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        run_script(script, str(partial), *args, timeout=1200)
        partial.rename(folder)
    return folder
