"""MXNet 1.9.1's own gluon model zoo as the oracle for :mod:`srcext.mxnet.gluon_zoo` and CompreFace's gluon
mask plugin: ``mobilenet_v2_1_0`` / ``resnet18_v1`` with 3 classes, random weights and random batch-norm
statistics, saved with ``save_parameters`` (and the legacy ``collect_params().save``), run on given tensors,
and on face crops through CompreFace's own transforms (``Resize(224)``, ``ToTensor``, ImageNet ``Normalize``,
softmax)."""
from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.srcext.mxnet_oracle import run_script

SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import mxnet as mx
    from mxnet.gluon.model_zoo import vision
    from mxnet.gluon.data.vision import transforms
    job = json.load(open(sys.argv[1]))
    mx.random.seed(job["seed"])
    rng = np.random.RandomState(job["seed"])
    net = getattr(vision, job["arch"])(classes=3)
    net.initialize(mx.init.MSRAPrelu(factor_type="in", slope=0.0))  # keeps the signal alive
    net(mx.nd.zeros((1, 3, 224, 224)))
    for name, p in net.collect_params().items():
        if name.endswith("gamma"):
            p.set_data(mx.nd.array(rng.uniform(0.7, 1.3, p.shape)))
        elif name.endswith("beta") or name.endswith("bias"):
            p.set_data(mx.nd.array(rng.uniform(-0.1, 0.1, p.shape)))
        elif name.endswith("running_mean"):
            p.set_data(mx.nd.array(rng.uniform(-0.2, 0.2, p.shape)))
        elif name.endswith("running_var"):
            p.set_data(mx.nd.array(rng.uniform(0.7, 1.5, p.shape)))
    net.save_parameters(job["params"])
    net.collect_params().save(job["legacy"], strip_prefix=net.prefix)
    np.save(job["logits"], net(mx.nd.array(np.load(job["tensors"]))).asnumpy())
    # CompreFace's insightface/facemask/facemask.py, from its crop onwards
    loaded = getattr(vision, job["arch"])(classes=3)
    loaded.load_parameters(job["params"])
    compose = transforms.Compose([transforms.Resize(224), transforms.ToTensor(),
                                  transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    scores = []
    for crop in np.load(job["crops"]):
        data = mx.nd.array(crop.reshape((1,) + crop.shape))
        scores.append(loaded(mx.nd.array(compose(data))).softmax().asnumpy()[0])
    np.save(job["compreface"], np.stack(scores))
""")


@dataclass(frozen=True)
class GluonModel:
    """What the oracle wrote: both parameter files and MXNet's answers."""

    params: Path  # save_parameters (structural names)
    legacy: Path  # collect_params().save (gluon's global names)
    logits: np.ndarray  # the network on ``tensors``
    compreface: np.ndarray  # CompreFace's softmax scores for ``crops``


def build(folder: Path, arch: str, seed: int, tensors: np.ndarray, crops: np.ndarray) -> GluonModel:
    """Make a random gluon ``arch`` in MXNet, save it, and run it on ``tensors`` (N, 3, 224, 224) and on
    ``crops`` (N, H, W, 3 RGB) the way CompreFace does."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "tensors.npy", np.asarray(tensors, np.float32))
    np.save(folder / "crops.npy", np.asarray(crops))
    job = {"arch": arch, "seed": seed, "params": str(folder / f"{arch}.params"),
           "legacy": str(folder / f"{arch}-legacy.params"), "tensors": str(folder / "tensors.npy"),
           "crops": str(folder / "crops.npy"), "logits": str(folder / "logits.npy"),
           "compreface": str(folder / "compreface.npy")}
    (folder / "job.json").write_text(json.dumps(job))
    run_script(SCRIPT, str(folder / "job.json"))
    return GluonModel(Path(job["params"]), Path(job["legacy"]), np.load(job["logits"]), np.load(job["compreface"]))
