"""sample_images/: every photo's provenance is recorded, and its hand-drawn annotations match the service."""
from __future__ import annotations

import hashlib
import io
import re

import numpy as np
import pytest

from facecore.app import create_app
from facecore.config import Settings
from tools import scan
from tools.common.annotations import boxes_of, read_imglab, read_noses, score_image

FOLDER = scan.SAMPLE_IMAGES
NOSES = FOLDER / "annotations.json"
BOXES = FOLDER / "faces.xml"
ROW = re.compile(r"^\| (?P<file>[\w.-]+\.(?:png|jpg)) \| (?P<sha>[0-9a-f]{64}) \| (?P<faces>\d+)[^|]* \| "
                 r"(?P<source>[^|]+) \| (?P<licence>[^|]+) \|$", re.M)
FREE = ("public domain", "CC0", "CC BY")


def recorded() -> dict[str, dict[str, str]]:
    return {row["file"]: row.groupdict() for row in ROW.finditer((FOLDER / "README.md").read_text())}


def photos() -> list[str]:
    return sorted(p.name for p in FOLDER.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def test_every_photo_has_its_source_licence_and_checksum_recorded():
    rows = recorded()
    assert photos() and sorted(rows) == photos()
    for name, row in rows.items():
        assert hashlib.sha256((FOLDER / name).read_bytes()).hexdigest() == row["sha"], name
        assert any(licence in row["licence"] for licence in FREE), row
        assert row["source"].strip()


def test_noses_and_boxes_label_the_same_faces():
    noses = {p.name: t.noses for p, t in read_noses(NOSES).items()}
    boxes = {p.name: t.boxes for p, t in read_imglab(BOXES).items()}
    rows = recorded()
    assert sorted(noses) == sorted(boxes) == photos()
    for name in photos():
        assert len(noses[name]) == len(boxes[name]) == int(rows[name]["faces"]), name
        for (x, y), (x1, y1, x2, y2) in zip(noses[name], boxes[name]):
            assert x1 < x < x2 and y1 < y < y2, (name, x, y)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(Settings(models_root=tmp_path_factory.mktemp("models"), models_offline=True))
    return app.test_client()


@pytest.mark.integration
@pytest.mark.parametrize("name", photos())
def test_the_service_finds_exactly_the_labelled_faces(client, name):
    response = client.post("/find_faces?face_plugins=calculator",
                           data={"file": (io.BytesIO((FOLDER / name).read_bytes()), name)},
                           content_type="multipart/form-data")
    faces = response.get_json()["result"] if response.status_code == 200 else []
    assert response.status_code == 200 or (response.status_code == 400 and name == "coffee.png"), response.data
    found = boxes_of(faces)
    for truth in (read_noses(NOSES)[FOLDER / name], read_imglab(BOXES)[FOLDER / name]):
        score = score_image(truth, found)
        assert score.errors == 0, (name, faces, score)
    assert all(np.linalg.norm(face["embedding"]) > 0 for face in faces)


@pytest.mark.integration
@pytest.mark.parametrize("annotations", [NOSES, BOXES], ids=["noses", "boxes"])
def test_scan_checks_the_sample_images_against_their_annotations(annotations, tmp_path, capsys):
    code = scan.main(["--annotations", str(annotations), "--plugins", "calculator", "--out", str(tmp_path),
                      "--", str(FOLDER)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "0 detection error(s)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{n.rsplit('.', 1)[0]}.scan.jpg" for n in photos()]
