"""Training-set formats: RecordIO written by MXNet 1.9.1 itself, .bin verification pickles (and the unpickler
that refuses anything but bytes, lists and booleans), CASIA and VGGFace2 lists, folders."""
from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest

from training.binfile import UnsafePickle, loads_bin
from training.recordio import MAGIC_BYTES, ImageRecords, IndexedRecords, unpack

WRITE_RECORDIO = """
import json, sys
import mxnet as mx
spec = json.load(open(sys.argv[1]))
rec = mx.recordio.MXIndexedRecordIO(spec["idx"], spec["rec"], "w")
images = spec["images"]
first_identity = len(images) + 1
identities = sorted(set(label for label, _ in images))
header = mx.recordio.IRHeader(2, [first_identity, first_identity + len(identities)], 0, 0)
rec.write_idx(0, mx.recordio.pack(header, b""))
for key, (label, path) in enumerate(images, 1):
    rec.write_idx(key, mx.recordio.pack(mx.recordio.IRHeader(0, float(label), key, 0), open(path, "rb").read()))
for offset, identity in enumerate(identities):
    keys = [k for k, (label, _) in enumerate(images, 1) if label == identity]
    rec.write_idx(first_identity + offset, mx.recordio.pack(mx.recordio.IRHeader(2, [keys[0], keys[-1] + 1], 0, 0), b""))
raw = open(spec["raw"], "rb").read()
rec.write_idx(first_identity + len(identities), mx.recordio.pack(mx.recordio.IRHeader(0, 7.0, 0, 0), raw))
rec.close()
"""


@pytest.mark.mxnet_oracle
@pytest.mark.integration
def test_recordio_written_by_mxnet_reads_without_it(tmp_path):
    import cv2

    from tests.srcext.mxnet_oracle import run_script

    rng = np.random.default_rng(0)
    images, pictures = [], []
    for index, label in enumerate([5, 5, 9, 12, 12, 12]):
        pixels = rng.integers(0, 255, (112, 112, 3), dtype=np.uint8)
        path = tmp_path / f"{index}.png"
        cv2.imwrite(str(path), pixels)
        images.append((label, str(path)))
        pictures.append(pixels)
    # A payload holding the magic number at aligned offsets: MXNet splits it into parts around each.
    raw = b"abcd" + MAGIC_BYTES + b"efgh" + MAGIC_BYTES + b"ij"
    (tmp_path / "raw.bin").write_bytes(raw)
    spec = {"rec": str(tmp_path / "train.rec"), "idx": str(tmp_path / "train.idx"), "images": images,
            "raw": str(tmp_path / "raw.bin")}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    run_script(WRITE_RECORDIO, str(tmp_path / "spec.json"))

    records = ImageRecords(tmp_path / "train.rec")
    assert records.image_keys == [1, 2, 3, 4, 5, 6]
    assert records.labels() == [5, 5, 9, 12, 12, 12]
    for key, pixels in zip(records.image_keys, pictures):
        decoded = cv2.imdecode(np.frombuffer(records.image(key), np.uint8), cv2.IMREAD_COLOR)
        assert np.array_equal(decoded, pixels)
    header, _ = unpack(records.records.read(7))  # identity 5: images 1..2
    assert header.label.tolist() == [1.0, 3.0]
    header, payload = unpack(IndexedRecords(tmp_path / "train.rec").read(10))
    assert payload == raw and header.label[0] == 7.0

    from training.data import open_samples

    samples = open_samples(str(tmp_path / "train.rec"))
    assert samples.labels == [0, 0, 1, 2, 2, 2] and samples.names == ["5", "9", "12"]
    assert np.array_equal(samples.loaders[3](), cv2.cvtColor(pictures[3], cv2.COLOR_BGR2RGB))


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_a_verification_bin_reads_as_bytes_and_booleans(protocol):
    data = pickle.dumps(([b"\xff\xd8a", b"\xff\xd8b", b"c", b"d"], [True, False]), protocol=protocol)
    loaded = loads_bin(data)
    assert loaded.images == [b"\xff\xd8a", b"\xff\xd8b", b"c", b"d"] and loaded.issame == [True, False]


def test_codecs_encode_is_answered_only_for_latin1_strings():
    smuggled = b"\x80\x02c_codecs\nencode\nq\x00X\x01\x00\x00\x00aX\x05\x00\x00\x00utf-8\x86R."
    with pytest.raises(UnsafePickle, match="anything but"):
        loads_bin(smuggled)


class Exploit:
    def __reduce__(self):
        return (os.system, ("echo owned",))


@pytest.mark.parametrize("payload, message", [
    (([b"a", b"b"], [True], Exploit()), "posix.system|os.system|refused"),
    (Exploit(), "system"),
    (([b"a", b"b"], [np.bool_(True)]), "numpy"),
    (([b"a", b"b"], [1]), "issame is not a list of booleans"),
    ((["a", "b"], [True]), "images are not a list of bytes"),
    ({"images": [b"a"]}, "expected \\(images, issame\\)"),
    (([b"a"], [True]), "1 images for 1 pairs"),
])
def test_the_bin_unpickler_refuses_everything_else(payload, message):
    with pytest.raises(UnsafePickle, match=message):
        loads_bin(pickle.dumps(payload))


def test_a_broken_bin_is_refused_cleanly():
    with pytest.raises(UnsafePickle, match="not a verification .bin"):
        loads_bin(b"\x80\x04garbage")


def test_bin_pairs_embed_and_verify(tmp_path):
    import cv2

    from training.evaluate import bin_pair_set

    rng = np.random.default_rng(0)
    encoded = [cv2.imencode(".png", rng.integers(0, 255, (112, 112, 3), dtype=np.uint8))[1].tobytes()
               for _ in range(40)]
    path = tmp_path / "tiny.bin"
    path.write_bytes(pickle.dumps((encoded, [i % 2 == 0 for i in range(20)])))
    pairs = bin_pair_set(path)
    assert (pairs.a[:2].tolist(), pairs.b[:2].tolist(), pairs.same[:2].tolist()) == ([0, 2], [1, 3], [True, False])
    assert pairs.loaders[5]().shape == (112, 112, 3) and sorted(set(pairs.folds.tolist())) == list(range(10))


def test_casia_and_vggface2_lists(tmp_path):
    import cv2

    from training.data import open_samples

    rng = np.random.default_rng(1)
    picture = rng.integers(0, 255, (250, 250, 3), dtype=np.uint8)
    for name in ("0000045/001.jpg", "0000045/002.jpg", "0000099/001.jpg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / name), picture)
    (tmp_path / "casia.txt").write_text("0000045/001.jpg 45\n0000045/002.jpg 45\n0000099/001.jpg 99\n")
    casia = open_samples(str(tmp_path / "casia.txt"))
    assert casia.labels == [0, 0, 1] and casia.names == ["45", "99"] and casia.loaders[0]().shape == (112, 112, 3)
    (tmp_path / "bad.txt").write_text("no-label-here\n")
    with pytest.raises(ValueError, match="expected 'path label'"):
        open_samples(str(tmp_path / "bad.txt"))

    (tmp_path / "train_list.txt").write_text("0000045/001.jpg\n0000099/001.jpg\n")
    marks = "P1X,P1Y,P2X,P2Y,P3X,P3Y,P4X,P4Y,P5X,P5Y"
    row = "100,120,150,120,125,150,105,180,145,180"
    (tmp_path / "landmarks.csv").write_text(f"NAME_ID,{marks}\n0000045/001,{row}\n0000099/001,{row}\n")
    vgg = open_samples(f"{tmp_path / 'train_list.txt'},{tmp_path / 'landmarks.csv'}")
    assert vgg.labels == [0, 1] and vgg.loaders[1]().shape == (112, 112, 3)
