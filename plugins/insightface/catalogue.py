"""The models of the insightface plugin family: where each file comes from, its licence and options.

ONNX packs: zips of the InsightFace v0.7 release, one member per model (no checksum is published; the
store records the sha256 of the first download). CompreFace's MXNet models: Google Drive zips whose
file names vary, kept whole and unpacked by :mod:`plugins.insightface.loading`.
"""
from __future__ import annotations

from dataclasses import replace

from facecore.plugin_api import ModelFile, ModelSpec

INSIGHTFACE_LICENCE = "InsightFace pretrained weights: non-commercial research use only"
MIT = "MIT"
PACK_URL = "https://github.com/deepinsight/insightface/releases/download/v0.7/{pack}.zip"
MOBILEFACE_URL = "https://raw.githubusercontent.com/becauseofAI/MobileFace/master/MobileFace_Identification/{file}"

#: Figures CompreFace published for its calculator models (``(c0, c1)`` of Java's similarity).
R100_COEFFICIENTS = (1.23132175, 6.602259425)
#: ArcFace ONNX models of the packs have no published coefficients: CompreFace's ArcFace R100 values are
#: used (same loss, same unit-sphere distances); see docs/insightface.md.
PACK_COEFFICIENTS = R100_COEFFICIENTS
#: Measured here: c0 = the best distance threshold on deepface master.csv (docs/insightface.md); c1 assumed.
MOBILEFACE_COEFFICIENTS = (1.06, 6.0)


def pack_model(name: str, pack: str, member: str, **options: object) -> ModelSpec:
    url = PACK_URL.format(pack=pack)
    return ModelSpec(name, (ModelFile(member, url, member=member),), INSIGHTFACE_LICENCE,
                     options={"format": "onnx", "onnx": member, **options})


def mxnet_archive(name: str, gdrive_id: str, licence: str = INSIGHTFACE_LICENCE, **options: object) -> ModelSpec:
    return ModelSpec(name, (ModelFile(f"{name}.zip", f"gdrive:{gdrive_id}"),), licence,
                     similarity_coefficients=options.pop("coefficients", None),  # type: ignore[arg-type]
                     options={"format": "mxnet_zip", "archive": f"{name}.zip", **options})


def local_onnx(name: str) -> ModelSpec:
    """A model of the user's own: ``MODELS_ROOT/insightface/<slug>/<name>/<name>.onnx``."""
    return ModelSpec(name, (ModelFile(f"{name}.onnx", "local"),), "the user's own model",
                     options={"format": "onnx", "onnx": f"{name}.onnx"})


#: CompreFace's models first, in its code's order: its first tuple is what a name without ``@model`` means there
#: (its README names retinaface_r50_v1 / arcface_r100_v1 as defaults, which its code does not use).
DETECTORS = (
    mxnet_archive("retinaface_mnet025_v1", "1ggNFFqpe0abWz6V1A82rnxD6fyxB8W2c"),
    mxnet_archive("retinaface_mnet025_v2", "1EYTMxgcNdlvoL1fSC8N1zkaWrX75ZoNL", landmark_std=0.2),
    mxnet_archive("retinaface_r50_v1", "1LZ5h9f_YC5EdbIZAqVba9TKHipi90JBj"),
    pack_model("det_10g", "buffalo_l", "det_10g.onnx", threshold=0.5),
    pack_model("det_2.5g", "buffalo_m", "det_2.5g.onnx", threshold=0.5),
    pack_model("det_500m", "buffalo_s", "det_500m.onnx", threshold=0.5),
)

CALCULATORS = (
    mxnet_archive("arcface_mobilefacenet", "17TpxpyHuUc1ZTm3RIbfvhnBcZqhyKszV",
                  coefficients=(1.26538905, 5.552089201)),
    mxnet_archive("arcface_r100_v1", "11xFaEHIQLNze3-2RUV1cQfT-q6PKKfYp", coefficients=R100_COEFFICIENTS),
    mxnet_archive("arcface_resnet34", "1ECp5XrLgfEAnwyTYFEhJgIsOAw6KaHa7", coefficients=(1.2462842, 5.981636853)),
    mxnet_archive("arcface_resnet50", "1a9nib4I9OIVORwsqLB0gz0WuLC32E8gf", coefficients=(1.2375747, 5.973354538)),
    mxnet_archive("arcface-r50-msfdrop75", "1gNuvRNHCNgvFtz7SjhW82v2-znlAYaRO",
                  coefficients=(1.2350148, 7.071431642)),
    mxnet_archive("arcface-r100-msfdrop75", "1lAnFcBXoMKqE-SkZKTmi6MsYAmzG0tFw",
                  coefficients=(1.224676, 6.322647217)),
    mxnet_archive("arcface_mobilefacenet_casia_masked", "1ltcJChTdP1yQWF9e1ESpTNYAVwxLSNLP",
                  coefficients=(1.22507105, 7.321198934)),
    ModelSpec("w600k_r50", pack_model("w600k_r50", "buffalo_l", "w600k_r50.onnx").files, INSIGHTFACE_LICENCE,
              PACK_COEFFICIENTS, {"format": "onnx", "onnx": "w600k_r50.onnx"}),
    ModelSpec("w600k_mbf", pack_model("w600k_mbf", "buffalo_s", "w600k_mbf.onnx").files, INSIGHTFACE_LICENCE,
              PACK_COEFFICIENTS, {"format": "onnx", "onnx": "w600k_mbf.onnx"}),
    ModelSpec("glintr100", pack_model("glintr100", "antelopev2", "glintr100.onnx").files, INSIGHTFACE_LICENCE,
              PACK_COEFFICIENTS, {"format": "onnx", "onnx": "glintr100.onnx"}),
    ModelSpec("mobileface_v2", (
        ModelFile("MobileFace_Identification_V2-symbol.json",
                  MOBILEFACE_URL.format(file="MobileFace_Identification_V2-symbol.json")),
        ModelFile("MobileFace_Identification_V2-0000.params",
                  MOBILEFACE_URL.format(file="MobileFace_Identification_V2-0000.params")),
    ), MIT, MOBILEFACE_COEFFICIENTS, {
        "format": "mxnet", "symbol": "MobileFace_Identification_V2-symbol.json",
        "params": "MobileFace_Identification_V2-0000.params"}),
)

GENDERAGE = (
    mxnet_archive("genderage_v1", "1J9hqSWqZz6YvMMNrDrmrzEW9anhvdKuC", head="bins202", size=112),
    pack_model("genderage", "buffalo_l", "genderage.onnx", head="logits3", size=96),
)

#: Downloaded from the pack; CompreFace's MXNet zip (``2d106det-symbol.json`` + ``2d106det-0000.params``, whose
#: ``fc1`` CompreFace reads) is accepted in its place, converted into ``from-mxnet/``.
LANDMARKS106 = (
    replace(pack_model("2d106det", "buffalo_l", "2d106det.onnx", size=192),
            alternative=mxnet_archive("2d106det", "18cL35hF2exZ8u4pfLKWjJGxF0ySuYM2o", size=192, output="fc1",
                                      convert_into="from-mxnet")),
)
