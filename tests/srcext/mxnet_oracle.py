"""MXNet 1.9.1 as a test oracle, in its own virtual environment under the oracle cache (``~/.cache/facecore-oracles/mxnet-oracle-venv``).

The venv is created on first use (``mxnet==1.9.1``, ``numpy<1.24`` from PyPI) and reused; tests that need
it skip with the reason when it cannot be built. Arrays travel through ``.npy`` files in ``tmp_path``.
"""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tests.srcext.oracle_venv import ORACLE_CACHE, oracle_python as venv_python

VENV = Path(os.environ.get("MXNET_ORACLE_VENV", ORACLE_CACHE / "mxnet-oracle-venv"))
REQUIREMENTS = ("mxnet==1.9.1", "numpy<1.24")

FORWARD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import mxnet as mx
    cases = json.load(open(sys.argv[1]))
    for k, case in enumerate(cases):
        sym = mx.sym.load(case["symbol"])
        if case["outputs"]:
            internals = sym.get_internals()
            sym = mx.sym.Group([internals[n if n.endswith("_output") else n + "_output"] for n in case["outputs"]])
        saved = mx.nd.load(case["params"])
        saved = saved if isinstance(saved, dict) else {}  # a file without arrays loads as an empty list
        values = {key.split(":", 1)[-1]: v.astype("float32") for key, v in saved.items()}
        values.update({name: mx.nd.array(np.load(path)) for name, path in case["inputs"].items()})
        exe = sym.bind(mx.cpu(), {n: values[n] for n in sym.list_arguments()},
                       aux_states={n: values[n] for n in sym.list_auxiliary_states()}, grad_req="null")
        for j, out in enumerate(exe.forward(is_train=False)):
            np.save(case["prefix"] + "_%d.npy" % j, out.asnumpy())
""")


def oracle_python() -> Path:
    """The oracle venv's interpreter; skips the calling test when MXNet 1.9.1 cannot be installed."""
    return venv_python(VENV, REQUIREMENTS, "import mxnet; assert mxnet.__version__ == '1.9.1'", "MXNet 1.9.1")


def run_script(code: str, *args: str, timeout: float = 300) -> None:
    result = subprocess.run([str(oracle_python()), "-c", code, *args], capture_output=True, text=True,
                            timeout=timeout, env={**os.environ, "MXNET_SUBGRAPH_VERBOSE": "0"})
    if result.returncode != 0:
        raise AssertionError(f"MXNet oracle failed:\n{result.stderr[-3000:]}")


def mxnet_forward(tmp_path: Path, cases: Sequence[dict[str, Any]]) -> list[list[np.ndarray]]:
    """Run each case ``{symbol, params, inputs: {name: array}, outputs: [names] | None}`` through MXNet."""
    manifest = []
    for index, case in enumerate(cases):
        inputs = {}
        for name, array in case["inputs"].items():
            path = tmp_path / f"oracle_{index}_{name}.npy"
            np.save(path, np.asarray(array, np.float32))
            inputs[name] = str(path)
        manifest.append({"symbol": str(case["symbol"]), "params": str(case["params"]), "inputs": inputs,
                         "outputs": list(case.get("outputs") or []), "prefix": str(tmp_path / f"oracle_{index}")})
    (tmp_path / "oracle.json").write_text(json.dumps(manifest))
    run_script(FORWARD, str(tmp_path / "oracle.json"))
    results = []
    for index in range(len(cases)):
        files = sorted(tmp_path.glob(f"oracle_{index}_[0-9]*.npy"), key=lambda path: int(path.stem.rsplit("_", 1)[1]))
        results.append([np.load(path) for path in files])
    return results


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """max |actual - expected| / max |expected|: relative to the output's scale, stable near zeros."""
    scale = max(float(np.max(np.abs(expected))), 1e-12)
    return float(np.max(np.abs(np.asarray(actual, np.float64) - expected))) / scale
