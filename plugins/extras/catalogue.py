"""The models of the ``extras`` family: public sources pinned by sha256, licences as their authors give them."""
from __future__ import annotations

from facecore.plugin_api import ModelFile, ModelSpec

SILENT_FACE = ("https://raw.githubusercontent.com/minivision-ai/Silent-Face-Anti-Spoofing/"
               "b6d5f04ad78778917853b25c778acef6d5626d15/resources/anti_spoof_models/")
MINIFASNET_V2 = "2.7_80x80_MiniFASNetV2.pth"
MINIFASNET_V1SE = "4_0_0_80x80_MiniFASNetV1SE.pth"

MINIFASNET = (
    ModelSpec(
        name="minifasnet_v2_v1se",
        files=(
            ModelFile(MINIFASNET_V2, SILENT_FACE + MINIFASNET_V2,
                      sha256="a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0", size=1849453),
            ModelFile(MINIFASNET_V1SE, SILENT_FACE + MINIFASNET_V1SE,
                      sha256="84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990", size=1856130),
        ),
        licence="Apache-2.0 (Silent-Face-Anti-Spoofing, Minivision)",
        options={"scales": ((MINIFASNET_V2, 2.7), (MINIFASNET_V1SE, 4.0))},
    ),
)

FACE_CLASSIFICATION = "https://github.com/oarriaga/face_classification/raw/b861d21/trained_models/"
FER_EMOTION_FILE = "fer2013_mini_XCEPTION.102-0.66.hdf5"
FER_GENDER_FILE = "gender_mini_XCEPTION.21-0.95.hdf5"
FER_LICENCE = "MIT (oarriaga/face_classification; the FER2013 and IMDB training data have their own terms)"


def _fer(name: str, folder: str, filename: str, sha256: str, size: int, margin: tuple[float, float]) -> ModelSpec:
    """One mini-XCEPTION HDF5 file; ``margin``: share of the box added on each side (x, y) for its crop."""
    return ModelSpec(name=name, files=(ModelFile(filename, FACE_CLASSIFICATION + folder + filename, sha256=sha256,
                                                 size=size),),
                     licence=FER_LICENCE, options={"margin": margin})


# Margins: the authors add (20, 40) px (expression) and (30, 60) px (gender) around OpenCV Haar boxes of
# typically ~150-200 px; as shares of our detectors' boxes, about (0.1, 0.2) and (0.2, 0.4).
FER_EMOTION = (_fer("fer2013_mini_xception", "emotion_models/", FER_EMOTION_FILE,
                    "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e", 872856, (0.1, 0.2)),)
FER_GENDER = (_fer("gender_mini_xception", "gender_models/", FER_GENDER_FILE,
                   "7affc7bd520c48ca908eada26988d0e17fdfa1d447d8ae5675395f05ca6f943b", 802960, (0.2, 0.4)),)

AIZOO_FILE = "face_mask_detection.pb"
AIZOO = (
    ModelSpec(
        name="aizoo",
        files=(ModelFile(AIZOO_FILE, "https://github.com/AIZOOTech/FaceMaskDetection/raw/256dc65/models/" + AIZOO_FILE,
                         sha256="6a2072385eb0ff786af61743e60469f24ac12ba15507d15eccf6e35f17dbb239", size=4110762),),
        licence="MIT (AIZOOTech/FaceMaskDetection): free for commercial use",
    ),
)
