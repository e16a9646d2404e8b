"""Model store: checksums, offline errors, TOFU lock file, archives, concurrent workers, path safety."""
from __future__ import annotations

import hashlib
import io
import multiprocessing
import time
import zipfile
from pathlib import Path

import pytest

from facecore.model_store import ModelNotAvailable, ModelStore, check_name
from facecore.plugin_api import ModelFile, ModelSpec

PAYLOAD = b"weights" * 100
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def serve(payload: bytes, log: list[str] | None = None):
    def download(url: str, target: Path) -> None:
        if log is not None:
            log.append(url)
        target.write_bytes(payload)
    return download


def spec(sha256: str | None = DIGEST, **kwargs) -> ModelSpec:
    return ModelSpec("m", (ModelFile("m.onnx", "https://example.org/m.onnx", sha256=sha256, **kwargs),))


def test_fetches_once_then_uses_local_file(tmp_path):
    calls: list[str] = []
    store = ModelStore(tmp_path, downloader=serve(PAYLOAD, calls))
    path = store.ensure("fam", "detector", spec())["m.onnx"]
    assert path == tmp_path / "fam" / "detector" / "m" / "m.onnx" and path.read_bytes() == PAYLOAD
    store.ensure("fam", "detector", spec())
    assert calls == ["https://example.org/m.onnx"]


def test_present_files_need_no_network_even_offline(tmp_path):
    ModelStore(tmp_path, downloader=serve(PAYLOAD)).ensure("fam", "detector", spec())
    offline = ModelStore(tmp_path, offline=True, downloader=serve(b"never"))
    assert offline.ensure("fam", "detector", spec())["m.onnx"].read_bytes() == PAYLOAD


def test_checksum_mismatch_on_download(tmp_path):
    store = ModelStore(tmp_path, downloader=serve(b"tampered"))
    with pytest.raises(ModelNotAvailable, match="checksum mismatch"):
        store.ensure("fam", "detector", spec())
    assert not (tmp_path / "fam" / "detector" / "m" / "m.onnx").exists()


def test_altered_local_file_is_detected_at_start(tmp_path):
    store = ModelStore(tmp_path, downloader=serve(PAYLOAD))
    path = store.ensure("fam", "detector", spec())["m.onnx"]
    path.write_bytes(PAYLOAD[:-1])
    with pytest.raises(ModelNotAvailable, match="m.onnx") as error:
        store.ensure("fam", "detector", spec())
    assert "truncated or altered" in str(error.value)


def test_trust_on_first_use_records_and_checks(tmp_path):
    store = ModelStore(tmp_path, downloader=serve(PAYLOAD))
    path = store.ensure("fam", "detector", spec(sha256=None))["m.onnx"]
    assert DIGEST in (tmp_path / "checksums.lock.json").read_text()
    path.write_bytes(b"changed")
    with pytest.raises(ModelNotAvailable, match="checksum mismatch"):
        store.ensure("fam", "detector", spec(sha256=None))


def test_offline_and_missing_names_model_url_and_remedy(tmp_path):
    with pytest.raises(ModelNotAvailable) as error:
        ModelStore(tmp_path, offline=True).ensure("fam", "detector", spec())
    text = str(error.value)
    assert "'m'" in text and "https://example.org/m.onnx" in text and "tools.download_models --from" in text


def test_failed_download_is_one_clear_error(tmp_path):
    def refuse(url: str, target: Path) -> None:
        raise OSError("Network is unreachable")
    with pytest.raises(ModelNotAvailable, match="download from https://example.org/m.onnx failed"):
        ModelStore(tmp_path, downloader=refuse).ensure("fam", "detector", spec())


def test_zip_member(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("pack/m.onnx", PAYLOAD)
        archive.writestr("pack/other.onnx", b"x")
    zipped = ModelSpec("m", (ModelFile("m.onnx", "https://example.org/pack.zip", sha256=DIGEST, member="m.onnx"),))
    path = ModelStore(tmp_path, downloader=serve(buffer.getvalue())).ensure("fam", "calculator", zipped)["m.onnx"]
    assert path.read_bytes() == PAYLOAD


def test_download_of_a_one_weights_file_archive_takes_it_whatever_its_name(tmp_path):
    """A model's own archive (CompreFace's mask zips) with one file of the declared type under another name."""
    def archive(*members: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("model/", b"")
            for name in members:
                bundle.writestr(name, PAYLOAD if name.endswith(".params") else b"x")
        return buffer.getvalue()

    declared = ModelSpec("m", (ModelFile("net.params", "gdrive:abc", member="net.params"),))
    store = ModelStore(tmp_path / "one", downloader=serve(archive("model/other_name.params", "model/readme.txt")))
    assert store.ensure("fam", "mask", declared)["net.params"].read_bytes() == PAYLOAD
    two = ModelStore(tmp_path / "two", downloader=serve(archive("a.params", "b.params")))
    with pytest.raises(ModelNotAvailable, match="net.params not in archive"):  # ambiguous: no guess
        two.ensure("fam", "mask", declared)


def test_import_from_folder_is_verified(tmp_path):
    source = tmp_path / "incoming"
    source.mkdir()
    (source / "m.onnx").write_bytes(b"wrong")
    store = ModelStore(tmp_path / "store", offline=True)
    with pytest.raises(ModelNotAvailable, match="checksum mismatch"):
        store.import_from("fam", "detector", spec(), source)
    (source / "m.onnx").write_bytes(PAYLOAD)
    store.import_from("fam", "detector", spec(), source)
    assert store.ensure("fam", "detector", spec())["m.onnx"].read_bytes() == PAYLOAD


def test_package_source(tmp_path):
    package = ModelSpec("p", (ModelFile("__init__.py", "package:pluggy/__init__.py"),))
    path = ModelStore(tmp_path, offline=True).ensure("fam", "detector", package)["__init__.py"]
    assert path.name == "__init__.py" and path.exists()
    missing = ModelSpec("p", (ModelFile("x", "package:no_such_module_abc/x"),))
    with pytest.raises(ModelNotAvailable, match="not installed"):
        ModelStore(tmp_path).ensure("fam", "detector", missing)


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "", "/etc", "x/../../y"])
def test_names_cannot_escape_the_store(tmp_path, name):
    with pytest.raises(ValueError):
        ModelStore(tmp_path).model_dir("fam", "detector", name)
    with pytest.raises(ValueError):
        check_name(name)


def slow_download(url: str, target: Path) -> None:
    with open(target.parents[4] / "downloads.log", "a") as log:
        log.write("x")
    time.sleep(0.3)
    target.write_bytes(PAYLOAD)


def fetch_in_worker(root: str) -> str:
    return str(ModelStore(Path(root), downloader=slow_download).ensure("fam", "detector", spec())["m.onnx"])


def test_concurrent_workers_download_once(tmp_path):
    with multiprocessing.get_context("fork").Pool(4) as pool:
        paths = pool.map(fetch_in_worker, [str(tmp_path)] * 4)
    assert len(set(paths)) == 1 and Path(paths[0]).read_bytes() == PAYLOAD
    assert (tmp_path / "downloads.log").read_text() == "x"


def test_pack_archive_downloaded_once_for_several_members(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.onnx", b"A")
        archive.writestr("b.onnx", b"B")
    calls: list[str] = []
    store = ModelStore(tmp_path, downloader=serve(buffer.getvalue(), calls))
    for name in ("a", "b"):
        member = ModelSpec(name, (ModelFile(f"{name}.onnx", "https://example.org/pack.zip", member=f"{name}.onnx"),))
        assert store.ensure("fam", "detector", member)[f"{name}.onnx"].read_bytes() == name.upper().encode()
    assert calls == ["https://example.org/pack.zip"]


def test_models_of_ones_own_with_one_name_in_two_plugins_do_not_collide(tmp_path):
    """Checksums are recorded per place in the store: a detector's and a calculator's model both called
    "mine" (one file name, different weights) each keep their own digest."""
    store = ModelStore(tmp_path)
    mine = ModelSpec("mine", (ModelFile("model.onnx", "local"),))
    for slug, payload in (("detector", b"detector weights"), ("calculator", b"calculator weights")):
        target = store.model_dir("fam", slug, "mine") / "model.onnx"
        target.parent.mkdir(parents=True)
        target.write_bytes(payload)
    assert store.ensure("fam", "detector", mine)["model.onnx"].read_bytes() == b"detector weights"
    assert store.ensure("fam", "calculator", mine)["model.onnx"].read_bytes() == b"calculator weights"
    (store.model_dir("fam", "calculator", "mine") / "model.onnx").write_bytes(b"altered")
    with pytest.raises(ModelNotAvailable, match="checksum mismatch"):
        store.ensure("fam", "calculator", mine)


def with_zip_alternative() -> ModelSpec:
    """A pack member, or in its place a zip of another form (as 2d106det: ONNX pack or CompreFace's MXNet zip)."""
    return ModelSpec("m", spec(sha256=None).files,
                     alternative=ModelSpec("m", (ModelFile("m.zip", "gdrive:someid"),), options={"format": "zip"}))


def test_the_alternative_form_is_imported_and_used_when_only_it_is_there(tmp_path):
    downloads, store = tmp_path / "downloads", ModelStore(tmp_path / "root", offline=True)
    downloads.mkdir()
    (downloads / "m.zip").write_bytes(PAYLOAD)
    model = with_zip_alternative()
    [imported] = store.import_from("fam", "slug", model, downloads)
    assert imported.name == "m.zip" and imported.read_bytes() == PAYLOAD
    assert store.form_in_store("fam", "slug", model) is model.alternative
    assert set(store.ensure("fam", "slug", model)) == {"m.zip"}
    (imported.parent / "m.onnx").write_bytes(PAYLOAD)  # the declared form, once present, wins
    assert store.form_in_store("fam", "slug", model) is model
    assert set(store.ensure("fam", "slug", model)) == {"m.onnx"}


def test_import_without_either_form_names_both(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailable, match=r"m\.onnx.*or.*m\.zip"):
        ModelStore(tmp_path / "root", offline=True).import_from("fam", "slug", with_zip_alternative(), tmp_path / "empty")


def test_offline_without_either_form_names_both(tmp_path):
    with pytest.raises(ModelNotAvailable, match=r"m\.onnx.*or, in its place, m\.zip \(https://drive"):
        ModelStore(tmp_path, offline=True).ensure("fam", "slug", with_zip_alternative())
