"""``insightface.Landmarks2d106Detector@2d106det`` from CompreFace's MXNet zip, against MXNet 1.9.1.

The real 2d106det weights are not obtainable here (neither CompreFace's zip nor InsightFace's pack), so MXNet
itself builds a network of 2d106det's layer types (in-graph pixel scaling, convolutions, depthwise convolutions,
batch norms, PReLU, ``fc1`` of 212 values, then a training head) with random weights and random batch-norm
statistics, and saves it with ``save_checkpoint`` as ``2d106det-symbol.json`` + ``2d106det-0000.params``. Zipped as
CompreFace's ``2d106det.zip``, imported with ``tools.download_models --from``: our points equal those of
CompreFace's code path run by MXNet (its crop, ``fc1_output`` of a bound Module, ``(pred + 1) * 96``, the inverse
affine transform), for detected faces and for a ``detect_faces=false`` whole-image face, in-process and over HTTP
(``/find_faces``). The same network as an ONNX file placed as the pack's ``2d106det.onnx`` answers the same.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

from facecore.config import Settings
from facecore.model_store import ModelStore
from facecore.plugin_api import BoundingBox, DetectedFace, Face, LoadContext
from facecore.plugin_manager import PluginRegistry, build_plugin_manager
from tests.reliability.helpers import ROOT
from tests.srcext.mxnet_oracle import relative_error, run_script

pytestmark = [pytest.mark.integration, pytest.mark.mxnet_oracle]
SELECTION = "insightface.Landmarks2d106Detector@2d106det"
IMAGE = ROOT / "sample_images" / "astronaut.png"
BOXES = ((180.6, 60.2, 321.9, 240.4), (100.0, 150.5, 261.3, 250.8))  # detector floats; CompreFace truncates
WHOLE = (0, 0, 512, 512)  # detect_faces=false: CompreFace's box is the whole (512x512) image
SIZE = 192

BUILD = textwrap.dedent("""
    import sys
    import numpy as np
    import mxnet as mx
    folder = sys.argv[1]
    rng = np.random.default_rng(7)
    s = mx.sym
    x = s.Variable("data")
    x = s._internal._mul_scalar(s._internal._minus_scalar(x, scalar=127.5), scalar=0.0078125)

    def block(x, name, filters, kernel, stride, group=1):
        pad = (kernel // 2, kernel // 2)
        x = s.Convolution(x, num_filter=filters, kernel=(kernel, kernel), stride=(stride, stride), pad=pad,
                          num_group=group, no_bias=True, name=name + "_conv2d")
        x = s.BatchNorm(x, fix_gamma=False, eps=1e-3, momentum=0.9, name=name + "_batchnorm")
        return s.LeakyReLU(x, act_type="prelu", name=name + "_relu")

    x = block(x, "conv_1", 8, 3, 2)
    x = block(x, "conv_2_dw", 8, 3, 2, group=8)
    x = block(x, "conv_2", 16, 1, 1)
    x = block(x, "conv_3_dw", 16, 3, 2, group=16)
    x = block(x, "conv_3", 32, 1, 1)
    x = block(x, "conv_4", 32, 3, 2)
    fc1 = s.FullyConnected(s.Flatten(x), num_hidden=212, name="fc1")
    net = s.LinearRegressionOutput(fc1, name="lro")  # a training head after fc1, as training scripts save it

    shapes, _, aux_shapes = net.infer_shape(data=(1, 3, 192, 192))
    args, aux = {}, {}
    for name, shape in zip(net.list_arguments(), shapes):
        if name in ("data", "lro_label"):
            continue
        if name.endswith("_gamma") and "relu" in name:
            value = rng.uniform(0.0, 0.4, shape)
        elif name.endswith("_gamma"):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith(("_beta", "_bias")):
            value = rng.normal(0.0, 0.1, shape)
        else:
            value = rng.normal(0.0, 1.0, shape) * np.sqrt(1.0 / np.prod(shape[1:]))
        args[name] = mx.nd.array(value.astype(np.float32))
    for name, shape in zip(net.list_auxiliary_states(), aux_shapes):
        low, high = (0.5, 1.5) if name.endswith("moving_var") else (-0.2, 0.2)
        aux[name] = mx.nd.array(rng.uniform(low, high, shape).astype(np.float32))
    mx.model.save_checkpoint(folder + "/2d106det", 0, net, args, aux)
""")

COMPREFACE_FORWARD = textwrap.dedent("""
    import sys
    import numpy as np
    import mxnet as mx
    folder, crops_path, out_path = sys.argv[1:4]
    # CompreFace's Landmarks2d106Detector._landmark_model and predict_landmark2d106, batch of one each
    sym, arg_params, aux_params = mx.model.load_checkpoint(folder + "/2d106det", 0)
    model = mx.mod.Module(symbol=sym.get_internals()["fc1_output"], context=mx.cpu(), label_names=None)
    model.bind(for_training=False, data_shapes=[("data", (1, 3, 192, 192))])
    model.set_params(arg_params, aux_params)
    outputs = []
    for crop in np.load(crops_path):
        blob = np.transpose(crop, (2, 0, 1))[None].astype(np.float32)
        model.forward(mx.io.DataBatch(data=(mx.nd.array(blob),)), is_train=False)
        outputs.append(model.get_outputs()[-1].asnumpy()[0])
    np.save(out_path, np.stack(outputs))
""")


def compreface_crop(image: np.ndarray, box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """CompreFace's ``transform``: scale 192 * 2/3 / the longer side, box centre to the crop centre."""
    import cv2

    x_min, y_min, x_max, y_max = (int(value) for value in box)  # BoundingBoxDTO's int converters
    scale = SIZE * 2 / 3.0 / max(x_max - x_min, y_max - y_min)
    cx, cy = (x_min + x_max) // 2 * scale, (y_min + y_max) // 2 * scale
    matrix = np.array([[scale, 0.0, SIZE / 2 - cx], [0.0, scale, SIZE / 2 - cy]])
    return cv2.warpAffine(image, matrix, (SIZE, SIZE), borderValue=0.0), matrix


def compreface_points(fc1: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    import cv2

    pred = fc1.reshape(-1, 2).astype(np.float64)
    pred = (pred + 1) * (SIZE // 2)
    inverse = cv2.invertAffineTransform(matrix)
    return pred @ inverse[:, :2].T + inverse[:, 2]


def mxnet_points(folder, image: np.ndarray, boxes) -> list[np.ndarray]:
    """MXNet's points for ``boxes`` of ``image`` by CompreFace's code path, from the checkpoint in ``folder``."""
    crops, matrices = zip(*(compreface_crop(image, box) for box in boxes))
    np.save(folder / "crops.npy", np.stack(crops))
    run_script(COMPREFACE_FORWARD, str(folder), str(folder / "crops.npy"), str(folder / "fc1.npy"))
    return [compreface_points(row, matrix) for row, matrix in zip(np.load(folder / "fc1.npy"), matrices)]


def read_image() -> np.ndarray:
    import cv2

    return cv2.cvtColor(cv2.imread(str(IMAGE)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    """The MXNet-saved model files, the faces, and MXNet's points for them by CompreFace's code path."""
    folder = tmp_path_factory.mktemp("mxnet-2d106det")
    run_script(BUILD, str(folder))
    image = read_image()
    expected = mxnet_points(folder, image, (*BOXES, WHOLE))
    faces = [Face(image, DetectedFace(BoundingBox(*map(float, box)), 0.99)) for box in BOXES]
    faces.append(Face(image, DetectedFace(BoundingBox(*map(float, WHOLE)), 1.0), whole_image=True))
    return folder, faces, expected


def served_points(root, faces) -> list[np.ndarray]:
    plugin = PluginRegistry.from_manager(build_plugin_manager()).create(SELECTION)
    plugin.load(LoadContext(ModelStore(root, offline=True).for_plugin(plugin), Settings().device))
    return plugin.points(faces)


def test_compreface_zip_imported_gives_mxnets_points_and_the_pack_file_too(oracle, tmp_path):
    folder, faces, expected = oracle
    assert all(np.ptp(points, axis=0).min() > 5 for points in expected)  # points spread over the face, not one
    downloads, root = tmp_path / "downloads", tmp_path / "models"
    downloads.mkdir()
    with zipfile.ZipFile(downloads / "2d106det.zip", "w") as bundle:  # flattened by CompreFace on unpacking
        bundle.write(folder / "2d106det-symbol.json", "2d106det/2d106det-symbol.json")
        bundle.write(folder / "2d106det-0000.params", "2d106det/2d106det-0000.params")
    imported = subprocess.run([sys.executable, "-m", "tools.download_models", "--from", str(downloads),
                               "--root", str(root), "--plugins", SELECTION],
                              capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert imported.returncode == 0, imported.stderr
    model_dir = root / "insightface" / "landmarks2d106" / "2d106det"
    converted = model_dir / "from-mxnet" / "2d106det.onnx"  # at import: the server never writes
    assert converted.is_file() and not (model_dir / "2d106det.onnx").exists()
    for actual, wanted in zip(served_points(root, faces), expected):
        assert relative_error(actual, wanted) < 1e-4
    served_over_http_as_mxnet_says(folder, root)

    pack_root = tmp_path / "pack-models"  # the pack's form: 2d106det.onnx in the model folder
    pack_dir = pack_root / "insightface" / "landmarks2d106" / "2d106det"
    pack_dir.mkdir(parents=True)
    shutil.copyfile(converted, pack_dir / "2d106det.onnx")
    for actual, wanted in zip(served_points(pack_root, faces), expected):
        assert relative_error(actual, wanted) < 1e-4


def served_over_http_as_mxnet_says(folder, root) -> None:
    """``/find_faces`` with the imported model: for the detected face (its JSON box is CompreFace's integer box) and
    with ``detect_faces=false``, the points are MXNet's, rounded to the nearest pixel."""
    from facecore.app import create_app
    from facecore.config import load_settings

    env = {"FACECORE_LOAD_PLUGINS": "facenet,insightface,dlib", "FACE_DETECTION_PLUGIN": "facenet.FaceDetector",
           "CALCULATION_PLUGIN": "dlib.Calculator", "EXTRA_PLUGINS": SELECTION, "MODELS_ROOT": str(root),
           "MODELS_OFFLINE": "true"}
    client = create_app(load_settings(env)).test_client()
    answers = []
    for detect in ("true", "false"):
        response = client.post("/find_faces", data={"file": (IMAGE.open("rb"), "face.png"),
                                                    "face_plugins": "landmarks2d106", "detect_faces": detect})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["plugins_versions"]["landmarks2d106"] == SELECTION
        answers.extend(body["result"])
    detected, whole = answers
    box = detected["box"]
    boxes = [(box["x_min"], box["y_min"], box["x_max"], box["y_max"]), WHOLE]
    for result, wanted in zip((detected, whole), mxnet_points(folder, read_image(), boxes)):
        served = np.asarray(result["landmarks2d106"])
        assert served.shape == (106, 2) and result["landmarks"] == result["landmarks2d106"]
        near_half = np.abs(wanted - np.floor(wanted) - 0.5) < 1e-3  # where rounding may go either way
        assert np.all((served == np.rint(wanted)) | near_half)
