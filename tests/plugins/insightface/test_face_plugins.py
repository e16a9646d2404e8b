"""Calculator, gender/age, landmarks and pose plugins: batching, the shared genderage run, JSON shapes."""
from __future__ import annotations

import numpy as np
import pytest

from facecore.plugin_api import BoundingBox, DetectedFace, Face, ModelFile, ModelSpec
from plugins.insightface.calculator import Calculator
from plugins.insightface.catalogue import CALCULATORS, GENDERAGE
from plugins.insightface.crops import centred
from plugins.insightface.genderage import AgeDetector, GenderDetector, decode
from plugins.insightface.landmarks import Landmarks2d106Detector, LandmarksDetector
from plugins.insightface.pose import PoseEstimator
from tests.plugins.insightface.helpers import landmarks106_stand_in, load_from, local_store, read_rgb, tiny_embedder
from tests.plugins.insightface.measure import mxnet_plugin, scrfd
from tests.shared_data import shared_path

MARKS = np.array([[40, 50], [70, 50], [55, 65], [43, 80], [68, 80]], dtype=float)


def faces_of(image: np.ndarray, count: int = 3) -> list[Face]:
    rng = np.random.default_rng(1)
    faces = []
    for i in range(count):
        shift = rng.uniform(-8, 8, 2) + [i * 20, 0]
        box = BoundingBox(20 + shift[0], 30 + shift[1], 100 + shift[0], 110 + shift[1])
        faces.append(Face(image, DetectedFace(box, 0.9, MARKS + shift)))
    return faces


def image() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 255, (160, 200, 3), dtype=np.uint8)


def test_calculator_runs_the_batch_in_one_call_and_matches_one_by_one(tmp_path):
    store = local_store(tmp_path, "insightface", "calculator", "tiny", tiny_embedder(tmp_path / "tiny.onnx"))
    calculator = Calculator(Calculator.custom_model("tiny"))
    load_from(store, calculator)
    calls = []
    real_run = calculator.session.run
    calculator.session = type("Counting", (), {"run": lambda _, *a: calls.append(a) or real_run(*a)})()
    batch = calculator.embed(faces_of(image()))
    assert len(calls) == 1 and batch.shape == (3, 8) and batch.dtype == np.float32
    single = np.concatenate([calculator.embed([f]) for f in faces_of(image())])
    assert np.allclose(batch, single, atol=1e-5)
    assert calculator.similarity_coefficients == (1.23132175, 6.602259425)
    assert list(calculator.analyze(faces_of(image(), 1))[0]) == ["embedding"]


def test_compreface_names_keep_their_similarity_coefficients():
    coefficients = {m.name: m.similarity_coefficients for m in CALCULATORS}
    assert CALCULATORS[0].name == "arcface_mobilefacenet"  # CompreFace's first tuple
    assert coefficients["arcface_mobilefacenet"] == (1.26538905, 5.552089201)
    assert coefficients["arcface-r100-msfdrop75"] == (1.224676, 6.322647217)
    assert coefficients["arcface-r50-msfdrop75"] == (1.2350148, 7.071431642)
    assert coefficients["arcface_resnet34"] == (1.2462842, 5.981636853)
    assert all(c is not None for c in coefficients.values())


def test_genderage_heads_decode_gender_softmax_and_age():
    bins = np.tile([1.0, 0.0], 100)
    bins[1:2 * 31:2] = 2.0  # 31 bins whose second logit wins
    found = decode(np.r_[0.0, np.log(3.0), bins], "bins202")
    assert (found.gender, found.age) == ("male", 31) and found.gender_probability == pytest.approx(0.75)
    found = decode(np.array([2.0, 0.0, 0.274]), "logits3")
    assert (found.gender, found.age) == ("female", 27) and found.gender_probability > 0.88
    with pytest.raises(ValueError):
        decode(np.zeros(3), "other")


def test_landmark_and_pose_plugins_answer_per_face():
    faces = faces_of(image(), 2)
    five = LandmarksDetector(None).analyze(faces)
    assert five[0]["landmarks"] == [[int(x), int(y)] for x, y in faces[0].detection.landmarks]
    pose = PoseEstimator(None).analyze(faces)
    assert set(pose[1]["pose"]) == {"pitch", "yaw", "roll"} and PoseEstimator.requires_detection


def test_landmarks2d106_maps_the_crop_back_to_image_pixels(tmp_path):
    path = landmarks106_stand_in(tmp_path / "lm.onnx")
    store = local_store(tmp_path, "insightface", "landmarks2d106", "lm", path)
    plugin = Landmarks2d106Detector(ModelSpec("lm", (ModelFile("lm.onnx", "local"),), options={"size": 192}))
    load_from(store, plugin)
    faces = faces_of(image(), 2)
    result = plugin.analyze(faces)
    box = faces[1].detection.box
    assert list(result[1]) == ["landmarks2d106", "landmarks"] and len(result[1]["landmarks2d106"]) == 106
    assert result[1]["landmarks"] == result[1]["landmarks2d106"]
    assert result[1]["landmarks2d106"][0] == [int((box.x_min + box.x_max) / 2), int((box.y_min + box.y_max) / 2)]


@pytest.mark.integration
def test_mobileface_v2_through_the_converter_batches_exactly(tmp_path):
    source = shared_path("models/mxnet/mobileface_v2")
    calculator = mxnet_plugin(Calculator, CALCULATORS, "mobileface_v2", "calculator", source, tmp_path)
    detector = scrfd(tmp_path)
    picture = read_rgb(shared_path("datasets/dlib-faces/2008_002079.jpg"))
    faces = [Face(picture, d) for d in detector.detect(picture, 0.5)]
    assert len(faces) >= 4
    batch = calculator.embed(faces)
    single = np.concatenate([calculator.embed([f]) for f in faces])
    assert batch.shape == (len(faces), 256) and np.allclose(batch, single, atol=1e-5)


@pytest.mark.integration
def test_genderage_v1_runs_once_for_age_and_gender_and_reads_img4(tmp_path):
    source = shared_path("models/mxnet/genderage_v1")
    age, gender = (mxnet_plugin(cls, GENDERAGE, "genderage_v1", "genderage", source, tmp_path)
                   for cls in (AgeDetector, GenderDetector))
    assert age.session is gender.session
    calls = []
    real_run = age.session.run
    counting = type("Counting", (), {"run": lambda _, *a: calls.append(a) or real_run(*a),
                                     "get_inputs": lambda _: real_run.__self__.get_inputs()})()
    age.session = gender.session = counting
    from tests.plugins.insightface.measure import largest_face

    woman = largest_face(scrfd(tmp_path), read_rgb(shared_path("datasets/deepface/img4.jpg")))
    faces = [woman, Face(woman.image, woman.detection)]
    genders = gender.analyze(faces)
    ages = age.analyze(faces)
    assert len(calls) == 1
    assert genders[0]["gender"]["value"] == "female" and 0.5 < genders[0]["gender"]["probability"] <= 1.0
    assert ages[0]["age"]["low"] == ages[0]["age"]["high"] and 15 <= ages[0]["age"]["low"] <= 60
    batch = gender.run(faces)
    assert batch[0] == batch[1]


def test_landmarks2d106_crops_a_whole_image_face_as_a_box_like_compreface():
    """``detect_faces=false``: CompreFace's 106-point plugin crops the box [0, 0, W, H] like any box (the image in
    the middle 2/3 of the crop, aspect kept); the attribute models' crop stretches the image to the crop."""
    pixels = np.full((120, 200, 3), 200, np.uint8)
    face = Face(pixels, DetectedFace(BoundingBox(0.0, 0.0, 200.0, 120.0), 1.0), whole_image=True)
    boxed, stretched = centred(face, 192, compreface_box=True), centred(face, 192)
    scale = 192 * 2 / 3 / 200
    assert np.allclose(boxed.matrix, [[scale, 0, 96 - 100 * scale], [0, scale, 96 - 60 * scale]])
    assert boxed.pixels[0, 0].tolist() == [0, 0, 0] and boxed.pixels[96, 96].tolist() == [200, 200, 200]
    assert stretched.pixels[0, 0].tolist() == [200, 200, 200]
    assert np.allclose(boxed.to_image(np.array([[96.0, 96.0]])), [[100, 60]])


def test_landmarks2d106_crop_uses_compreface_integer_box():
    """CompreFace's ``BoundingBoxDTO`` truncates the box to ints and halves sums by integer division."""
    face = Face(np.zeros((300, 300, 3), np.uint8), DetectedFace(BoundingBox(10.9, 20.7, 111.8, 141.2), 0.9))
    crop = centred(face, 192, compreface_box=True)  # ints (10, 20, 111, 141): centre (60, 80), longer side 121
    scale = 192 / (121 * 1.5)
    assert np.allclose(crop.matrix, [[scale, 0, 96 - 60 * scale], [0, scale, 96 - 80 * scale]])
