"""tools.bulk_embed: sources, resumable shards, and a local Ray run whose embeddings equal the service's."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from facecore.app import create_app
from facecore.config import Settings
from tests.shared_data import shared_path
from tools import bulk_embed
from tools.bulk_embed import Item

pq = pytest.importorskip("pyarrow.parquet", reason="pip install -e '.[ray]'")


def test_sources_folder_list_and_manifest_give_the_same_images(tmp_path):
    folder = tmp_path / "photos"
    (folder / "a").mkdir(parents=True)
    for name in ("a/1.jpg", "2.png"):
        (folder / name).write_bytes(b"x")
    from_folder = bulk_embed.read_source(str(folder))
    assert [i.image_id for i in from_folder] == ["2.png", "a/1.jpg"]
    listing = tmp_path / "list.txt"
    listing.write_text("# photos\nphotos/2.png\n\nphotos/a/1.jpg\ns3://bucket/3.jpg\n")
    assert [i.uri for i in bulk_embed.read_source(str(listing))] == [
        str(folder / "2.png"), str(folder / "a/1.jpg"), "s3://bucket/3.jpg"]
    import pyarrow as pa

    pq.write_table(pa.table({"path": [i.uri for i in from_folder], "image_id": ["x", "y"]}), tmp_path / "m.parquet")
    expected = [Item("x", from_folder[0].uri), Item("y", from_folder[1].uri)]
    assert bulk_embed.read_source(str(tmp_path / "m.parquet")) == expected
    pq.write_table(pa.table({"file": ["a"]}), tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="'path' or 'uri'"):
        bulk_embed.read_source(str(tmp_path / "bad.parquet"))


def test_a_rerun_with_other_inputs_is_refused(tmp_path):
    items = [Item(str(i), f"/p/{i}.jpg") for i in range(5)]
    bulk_embed.pin_job(tmp_path, items, 2)
    bulk_embed.pin_job(tmp_path, items, 2)  # the same job resumes
    with pytest.raises(ValueError, match="another job"):
        bulk_embed.pin_job(tmp_path, items[:4], 2)
    with pytest.raises(ValueError, match="another job"):
        bulk_embed.pin_job(tmp_path, items, 3)
    assert [len(s) for s in bulk_embed.shards_of(items, 2)] == [2, 2, 1]


def test_unreadable_files_become_error_rows(tmp_path):
    row = bulk_embed.read_bytes({"uri": str(tmp_path / "missing.jpg")})
    assert row["data"] == b"" and row["error"].startswith("read:")
    (tmp_path / "ok.jpg").write_bytes(b"abc")
    assert bulk_embed.read_bytes({"uri": str(tmp_path / "ok.jpg")}) == {"uri": str(tmp_path / "ok.jpg"),
                                                                        "data": b"abc", "error": ""}


def service_faces(client, path):
    response = client.post("/find_faces?face_plugins=calculator",
                           data={"file": (io.BytesIO(path.read_bytes()), path.name)}, content_type="multipart/form-data")
    return response.get_json()["result"] if response.status_code == 200 else []


def run_bulk_embed(args: list[str]) -> dict:
    """The CLI in its own process, bounded in time (a stuck Ray job must fail the test, not hang CI)."""
    env = {**os.environ, "FACECORE_NO_PROGRESS": "1", "MODELS_OFFLINE": "true", "RAY_DATA_DISABLE_PROGRESS_BARS": "1"}
    done = subprocess.run([sys.executable, "-m", "tools.bulk_embed", *args], capture_output=True, text=True,
                          timeout=300, env=env, cwd=bulk_embed.ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.integration
def test_local_ray_run_equals_the_service_and_resumes(tmp_path):
    pytest.importorskip("ray", reason="pip install -e '.[ray]'")
    deepface = shared_path("datasets/deepface")
    photos = sorted(deepface.glob("img*.jpg"))[:5] + [deepface / "couple.jpg"]
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join([str(p) for p in photos] + ["broken.jpg", "gone.jpg"]) + "\n")
    out = tmp_path / "out"
    args = [str(listing), str(out), "--num-cpus", "2", "--shard-size", "3", "--batch-size", "2"]

    first = run_bulk_embed([*args, "--actors", "2"])
    assert first["shards"] == first["written"] == 3 and first["errors"] == 2
    table = pq.read_table(sorted(out.glob("shard-*.parquet"))).to_pylist()
    rows = {(r["uri"], r["face_index"]): r for r in table}
    errors = {r["image_id"]: r["error"] for r in table if r["error"]}
    assert sorted(errors) == ["broken.jpg", "gone.jpg"] and errors["gone.jpg"].startswith("read:")

    client = create_app(Settings(extras=(), models_offline=True)).test_client()
    status = client.get("/status").get_json()
    compared = 0
    for photo in photos:
        expected = service_faces(client, photo)
        got = sorted((r for (uri, _), r in rows.items() if uri == str(photo) and r["face_index"] >= 0),
                     key=lambda r: r["face_index"])
        assert len(got) == len(expected), photo
        for row, face in zip(got, expected):
            assert [row[k] for k in ("x_min", "y_min", "x_max", "y_max")] == \
                [face["box"][k] for k in ("x_min", "y_min", "x_max", "y_max")]
            np.testing.assert_allclose(row["embedding"], face["embedding"], atol=1e-5)
            assert row["model"] == status["calculator_version"]
            assert row["similarity_coefficients"] == pytest.approx(status["similarity_coefficients"])
            compared += 1
    assert compared >= 7  # couple.jpg has two faces

    kept, redo = sorted(out.glob("shard-*.parquet"))[:2], sorted(out.glob("shard-*.parquet"))[2]
    stamps = [p.stat().st_mtime_ns for p in kept]
    redo.unlink()
    second = run_bulk_embed([*args, "--actors", "1"])
    assert (second["skipped"], second["written"]) == (2, 1)
    assert [p.stat().st_mtime_ns for p in kept] == stamps and redo.exists()


@pytest.mark.integration
def test_min_quality_leaves_out_poor_faces_and_keeps_the_others(tmp_path):
    """The actor's face loop with ``--min-quality``: a blurred copy's face is dropped, the sharp one's kept."""
    import cv2

    from facecore.imaging import decode_image
    from tools.common.service import local_find_faces

    photo = shared_path("datasets/deepface") / "img1.jpg"
    sharp = photo.read_bytes()
    image = cv2.imdecode(np.frombuffer(sharp, np.uint8), cv2.IMREAD_COLOR)
    blurred = cv2.imencode(".jpg", cv2.GaussianBlur(image, (0, 0), 6))[1].tobytes()
    env = bulk_embed.settings_env(bulk_embed.parse_args([str(tmp_path), str(tmp_path / "out")]), 1.0)

    probe = bulk_embed.FaceEmbedder(env, min_quality=0.0)
    scores = [local_find_faces(probe.pipeline, decode_image(data, probe.limits), ("quality",),
                               probe.threshold)["result"][0]["quality"]["score"] for data in (sharp, blurred)]
    assert scores[0] > scores[1]
    threshold = (scores[0] + scores[1]) / 2

    everything = bulk_embed.FaceEmbedder(env).faces(sharp, "")
    strict = bulk_embed.FaceEmbedder(env, min_quality=threshold)
    kept = strict.faces(sharp, "")
    assert [f["face_index"] for f in kept] == [f["face_index"] for f in everything] and kept[0]["face_index"] == 0
    np.testing.assert_allclose(kept[0]["embedding"], everything[0]["embedding"], atol=1e-6)
    assert strict.faces(blurred, "") == [{"face_index": bulk_embed.NO_FACE, "error": None}]
