"""Each op converter against a numpy reference of MXNet's inference semantics (no MXNet needed)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from srcext.mxnet import convert, read_params
from tests.srcext.mxnet_graphs import CASES, Case, build_case
from tests.srcext.mxnet_numpy_ref import evaluate
from tests.srcext.mxnet_oracle import relative_error


def run_converted(symbol: Path, params: Path, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    model = convert(symbol, params, {name: value.shape for name, value in inputs.items()})
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, inputs)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_op_matches_numpy_reference(case: Case, tmp_path: Path) -> None:
    symbol, params, inputs, heads = build_case(case, tmp_path)
    expected = evaluate(json.loads(symbol.read_text()), read_params(params), inputs)
    actual = run_converted(symbol, params, inputs)
    for head, mine, reference in zip(heads, actual, expected, strict=True):
        assert mine.shape == reference.shape, head
        assert relative_error(mine, reference) < 1e-5, head


def test_fix_gamma_ignores_the_stored_gamma(tmp_path: Path) -> None:
    """MXNet's BatchNorm with fix_gamma=True uses gamma = 1 whatever the params file holds."""
    symbol, params, inputs, _ = build_case(next(case for case in CASES if case.name == "batchnorm"), tmp_path)
    first = run_converted(symbol, params, inputs)[0]
    document = json.loads(symbol.read_text())
    for node in document["nodes"]:
        if node["op"] == "BatchNorm":
            node["attrs"]["fix_gamma"] = "False"
    symbol.write_text(json.dumps(document))
    assert relative_error(run_converted(symbol, params, inputs)[0], first) > 0.1


def test_dynamic_batch_runs_other_batch_sizes(tmp_path: Path) -> None:
    for case in CASES:
        symbol, params, inputs, _ = build_case(case, tmp_path)
        model = convert(symbol, params, {name: value.shape for name, value in inputs.items()})
        session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        tripled = {name: np.concatenate([value] * 3) for name, value in inputs.items()}
        single = session.run(None, inputs)
        for once, thrice in zip(single, session.run(None, tripled)):
            if once.ndim and once.shape[0] == 2 and thrice.shape[0] == 6:
                assert np.allclose(thrice[:2], once, atol=1e-6), case.name
