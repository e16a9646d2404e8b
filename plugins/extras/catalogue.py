"""The models of the ``extras`` family: public sources pinned by sha256, licences as their authors give them."""
from __future__ import annotations

from src.plugin_api import ModelFile, ModelSpec

BACKEND = "extras"

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
