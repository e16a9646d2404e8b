"""Model store: locate, verify and (when allowed) fetch the files a plugin declares.

Layout: ``<root>/<backend>/<slug>/<model>/<filename>``. Weights shipped inside pip packages are used
in place. Downloads go to a temporary file, are checked against the declared sha256 (or the one
recorded in ``<root>/checksums.lock.json`` at the first verified download) and are then renamed, under
an exclusive file lock so that several workers starting at once download once. When the files are
present no network call is ever made.
"""
from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import logging
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from facecore.plugin_api import LoadContext, ModelFile, ModelSpec

if TYPE_CHECKING:  # pragma: no cover
    from facecore.device import Device
    from facecore.plugin_api import Plugin

log = logging.getLogger(__name__)

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
LOCK_FILE = "checksums.lock.json"
CHUNK = 1 << 20

Downloader = Callable[[str, Path], None]


class ModelNotAvailable(Exception):
    """A model file cannot be had: missing offline, checksum mismatch, or a failed download."""

    def __init__(self, spec_name: str, filename: str, reason: str) -> None:
        super().__init__(f"model {spec_name!r}, file {filename!r}: {reason}")
        self.spec_name = spec_name
        self.filename = filename
        self.reason = reason


def check_name(name: str, what: str = "model name") -> str:
    """Refuse names that could escape the store (``..``, ``/``, empty)."""
    if not SAFE_NAME.match(name) or ".." in name:
        raise ValueError(f"invalid {what} {name!r}: use letters, digits, '_', '-', '.', '+' only")
    return name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def package_path(source: str) -> Path:
    """``package:<module>/<rel/path>`` -> the file inside the installed package."""
    module, _, rel = source[len("package:"):].partition("/")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"pip package providing {module!r} is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / rel


def archive_member(names: list[str], member: str, sole_fallback: bool = True) -> str | None:
    """The zip entry that is ``member`` (at the root or under folders). With ``sole_fallback``, an archive whose
    only file of ``member``'s type has another name gives that file: a download is of one model's own archive,
    whose single weights file some publishers name differently (unlike ``--from``, which searches many zips)."""
    found = next((n for n in names if n == member or n.endswith("/" + member)), None)
    if found is not None or not sole_fallback:
        return found
    suffix = Path(member).suffix
    same_type = [n for n in names if not n.endswith("/") and suffix and n.endswith(suffix)]
    return same_type[0] if len(same_type) == 1 else None


def gdrive_url(file_id: str) -> str:
    return f"https://drive.google.com/uc?export=download&id={file_id}"


def http_download(url: str, target: Path, timeout: float = 60.0) -> None:
    """Plain HTTP(S) download into ``target``; Google Drive's confirmation page is followed."""
    request = urllib.request.Request(url, headers={"User-Agent": "face-core-model-store"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https URLs we declare)
        content_type = response.headers.get("Content-Type", "")
        if "drive.google.com" in url and content_type.startswith("text/html"):
            page = response.read().decode("utf-8", "replace")
            token = (re.search(r'name="confirm" value="([^"]+)"', page)
                     or re.search(r"confirm=([0-9A-Za-z_-]+)", page))
            uuid = re.search(r'name="uuid" value="([^"]+)"', page)
            if not token:
                raise OSError("Google Drive did not return the file (quota or permission page)")
            file_id = re.search(r"id=([^&]+)", url).group(1)  # type: ignore[union-attr]
            confirmed = ("https://drive.usercontent.google.com/download"
                         f"?id={file_id}&export=download&confirm={token.group(1)}")
            if uuid:
                confirmed += f"&uuid={uuid.group(1)}"
            http_download(confirmed, target, timeout)
            return
        with open(target, "wb") as out:
            shutil.copyfileobj(response, out, CHUNK)


@dataclass
class ModelStore:
    """Where models live. ``offline=True`` forbids downloads (missing files are an error)."""

    root: Path
    offline: bool = False
    downloader: Downloader = http_download

    def __post_init__(self) -> None:
        self.root = Path(self.root).expanduser()

    # ------------------------------------------------------------------ public
    def for_plugin(self, plugin: "Plugin") -> "PluginModels":
        """The one path rule, for the server and the tools alike: a plugin's models live under
        ``<root>/<first part of its name>/<its model folder (slug)>/<model name>``."""
        return PluginModels(self, check_name(plugin.family(), "backend"), plugin.model_folder(), plugin.model)

    def context_for(self, plugin: "Plugin", device: "Device", settings: Mapping[str, Any] | None = None) -> LoadContext:
        """The :class:`LoadContext` the core hands to ``plugin.load``: its own part of this store."""
        return LoadContext(models=self.for_plugin(plugin), device=device, settings=settings or {})

    def model_dir(self, backend: str, slug: str, model: str) -> Path:
        path = self.root / check_name(backend, "backend") / check_name(slug, "slug") / check_name(model)
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"model path {path} escapes MODELS_ROOT {self.root}")
        return path

    def ensure(self, backend: str, slug: str, spec: ModelSpec) -> dict[str, Path]:
        """Return ``{filename: local path}`` for every file of ``spec`` (or of the form in the store, see
        :meth:`form_in_store`), fetching what is missing."""
        chosen = self.form_in_store(backend, slug, spec)
        try:
            return {f.filename: self.ensure_file(backend, slug, chosen, f) for f in chosen.files}
        except ModelNotAvailable as error:
            if chosen is not spec or spec.alternative is None:
                raise
            other = ", ".join(f"{f.filename} ({self.url(f)})" for f in spec.alternative.files)
            raise ModelNotAvailable(spec.name, error.filename,
                                    f"{error.reason}; or, in its place, {other}") from None

    def form_in_store(self, backend: str, slug: str, spec: ModelSpec) -> ModelSpec:
        """``spec``, or its ``alternative`` when only the alternative's files are in the store."""
        alternative = spec.alternative
        if alternative is None or self._holds(backend, slug, spec) or not self._holds(backend, slug, alternative):
            return spec
        return alternative

    def _holds(self, backend: str, slug: str, spec: ModelSpec) -> bool:
        folder = self.model_dir(backend, slug, spec.name)
        return all((folder / f.filename).is_file() for f in spec.files if not f.source.startswith("package:"))

    def ensure_file(self, backend: str, slug: str, spec: ModelSpec, file: ModelFile) -> Path:
        if file.source.startswith("package:"):
            return self._package_file(spec, file)
        target = self.model_dir(backend, slug, spec.name) / check_name(file.filename, "file name")
        if target.exists():
            self._verify(spec, file, target, self._key(target))
            return target
        if file.source == "local":
            raise ModelNotAvailable(spec.name, file.filename,
                                    f"a model of your own: place the file at {target} "
                                    f"(or import it with `python -m tools.download_models --from DIR`)")
        if self.offline:
            raise ModelNotAvailable(spec.name, file.filename, self._offline_hint(file, target))
        with self._lock(target.parent):
            if not target.exists():  # another worker may have fetched it while we waited
                self._fetch(spec, file, target)  # checked before the rename: no second hashing
                return target
        self._verify(spec, file, target, self._key(target))
        return target

    def import_from(self, backend: str, slug: str, spec: ModelSpec, folder: Path) -> list[Path]:
        """Copy files obtained elsewhere into the store, verified where a checksum is known; returns the
        files copied. A file declared as a zip member is also found inside the zips of ``folder``, as the zips
        were downloaded. A file missing from ``folder`` but already in the store is verified and kept.
        When ``spec``'s files are not there, its ``alternative``'s are imported instead."""
        try:
            return self._import_files(backend, slug, spec, folder)
        except ModelNotAvailable as error:
            if spec.alternative is None:
                raise
            try:
                return self._import_files(backend, slug, spec.alternative, folder)
            except ModelNotAvailable as second:
                raise ModelNotAvailable(spec.name, f"{error.filename} or {second.filename}",
                                        f"{error.reason}; nor its other form: {second.reason}") from None

    def _import_files(self, backend: str, slug: str, spec: ModelSpec, folder: Path) -> list[Path]:
        imported = []
        for file in spec.files:
            if file.source.startswith("package:"):
                continue
            target = self.model_dir(backend, slug, spec.name) / file.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".import-") as scratch:
                found = self._find_import(file, folder, Path(scratch))
                if found is None and target.exists():  # already in the store: checked, nothing to import
                    self._verify(spec, file, target, self._key(target))
                    continue
                if found is None:
                    raise ModelNotAvailable(spec.name, file.filename, f"not found under {folder}")
                self._check_digest(spec, file, found, self._key(target))
                tmp = target.with_name(f".{target.name}.importing")
                shutil.copyfile(found, tmp)
                os.replace(tmp, target)
            self._verify(spec, file, target, self._key(target))
            imported.append(target)
        return imported

    @staticmethod
    def _find_import(file: ModelFile, folder: Path, scratch: Path) -> Path | None:
        """``file`` under ``folder``: by name, else (a zip member) inside one of its zips, unpacked to ``scratch``."""
        candidates = [folder / file.filename] + ([folder / file.member] if file.member else [])
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            found = next(iter(folder.rglob(file.member or file.filename)), None)
        if found is not None or not file.member:
            return found
        for archive in sorted(folder.rglob("*.zip")):
            try:
                with zipfile.ZipFile(archive) as bundle:
                    name = archive_member(bundle.namelist(), file.member, sole_fallback=False)
                    if name is not None:
                        with bundle.open(name) as src, open(scratch / "member", "wb") as dst:
                            shutil.copyfileobj(src, dst, CHUNK)
                        return scratch / "member"
            except zipfile.BadZipFile:
                log.warning("skipping %s: not a zip archive", archive)
        return None

    # ------------------------------------------------------------------ internals
    def _package_file(self, spec: ModelSpec, file: ModelFile) -> Path:
        try:
            path = package_path(file.source)
        except FileNotFoundError as error:
            raise ModelNotAvailable(spec.name, file.filename, f"{error}; install it with pip") from error
        if not path.is_file():
            raise ModelNotAvailable(spec.name, file.filename, f"{path} is missing from its pip package")
        if file.sha256:
            self._verify(spec, file, path, file.source)
        return path

    def _offline_hint(self, file: ModelFile, target: Path) -> str:
        return (f"not present at {target} and downloads are off (offline). Fetch it from {self.url(file)} "
                f"on a connected machine and import it with "
                f"`python -m tools.download_models --from DIR`, or copy it to that path")

    @staticmethod
    def url(file: ModelFile) -> str:
        if file.source.startswith("gdrive:"):
            return gdrive_url(file.source[len("gdrive:"):])
        return file.source

    def _fetch(self, spec: ModelSpec, file: ModelFile, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        url = self.url(file)
        log.info("downloading %s for model %s from %s", file.filename, spec.name, url)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
            raw = Path(tmp) / "download"
            try:
                if not (file.member and self._archive_path(url).exists()):
                    self.downloader(url, raw)
            except (OSError, urllib.error.URLError) as error:
                raise ModelNotAvailable(spec.name, file.filename,
                                        f"download from {url} failed ({error}). If this machine is offline, "
                                        f"pre-seed {target.parent} or use `python -m tools.download_models "
                                        f"--from DIR`") from error
            payload = raw
            if file.member:
                raw = self._archive(url, raw)
                payload = Path(tmp) / "member"
                try:
                    with zipfile.ZipFile(raw) as archive:
                        name = archive_member(archive.namelist(), file.member)
                        if name is None:
                            raise ModelNotAvailable(spec.name, file.filename, f"{file.member} not in archive {url}")
                        with archive.open(name) as src, open(payload, "wb") as dst:
                            shutil.copyfileobj(src, dst, CHUNK)
                except zipfile.BadZipFile as error:
                    raise ModelNotAvailable(spec.name, file.filename, f"{url} is not a zip archive") from error
            self._verify(spec, file, payload, self._key(target))
            os.replace(payload, target)

    def _archive_path(self, url: str) -> Path:
        return self.root / ".archives" / (hashlib.sha256(url.encode()).hexdigest()[:24] + ".zip")

    def _archive(self, url: str, downloaded: Path) -> Path:
        """Keep a downloaded archive so its other members (a model pack) are not downloaded again."""
        kept = self._archive_path(url)
        if not kept.exists():
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(downloaded, kept.with_suffix(".part"))
            os.replace(kept.with_suffix(".part"), kept)
        return kept

    def _check_digest(self, spec: ModelSpec, file: ModelFile, path: Path, key: str) -> None:
        """Against the declared sha256, else the one recorded under ``key`` (trust on first use)."""
        expected = file.sha256 or self._recorded().get(key)
        actual = sha256_of(path)
        if expected and actual != expected:
            raise ModelNotAvailable(spec.name, file.filename,
                                    f"checksum mismatch for {path}: sha256 {actual}, expected {expected} "
                                    f"(file truncated or altered: delete it and fetch again)")
        if not expected:
            self._record(key, actual)

    def _verify(self, spec: ModelSpec, file: ModelFile, path: Path, key: str) -> None:
        if file.size is not None and path.stat().st_size != file.size:
            raise ModelNotAvailable(spec.name, file.filename,
                                    f"{path} has {path.stat().st_size} bytes, expected {file.size} "
                                    f"(truncated or altered: delete it and fetch again)")
        self._check_digest(spec, file, path, key)

    def _key(self, target: Path) -> str:
        """A file's checksum key is its place in the store, ``backend/slug/model/file``: unique by construction."""
        return target.relative_to(self.root).as_posix()

    def _recorded(self) -> dict[str, str]:
        path = self.root / LOCK_FILE
        if not path.exists():
            return {}
        return json.loads(path.read_text())

    def _record(self, key: str, digest: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock(self.root):
            recorded = self._recorded()
            recorded[key] = digest
            tmp = self.root / f".{LOCK_FILE}.tmp"
            tmp.write_text(json.dumps(recorded, indent=1, sort_keys=True))
            os.replace(tmp, self.root / LOCK_FILE)

    @contextmanager
    def _lock(self, folder: Path) -> Iterator[None]:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class PluginModels:
    """One plugin's part of the store, handed to it in its :class:`LoadContext`: the folder of its selected
    model and the files it declares. Plugins never build store paths themselves."""

    store: ModelStore
    backend: str
    slug: str
    spec: ModelSpec | None

    @property
    def model(self) -> ModelSpec:
        if self.spec is None:
            raise ValueError(f"{self.backend}/{self.slug}: the plugin declares no model")
        return self.spec

    @property
    def folder(self) -> Path:
        """``<root>/<backend>/<slug>/<model>``: the place for files derived from the model (conversions)."""
        return self.store.model_dir(self.backend, self.slug, self.model.name)

    def files(self) -> dict[str, Path]:
        """``{filename: local path}`` of every file of the model, fetched and verified where needed."""
        return self.store.ensure(self.backend, self.slug, self.model)

    def form(self) -> ModelSpec:
        """The model as it is in the store: the declared one, or its ``alternative`` when only that is there."""
        return self.store.form_in_store(self.backend, self.slug, self.model)

    def file(self, filename: str) -> Path:
        """One file of the model (see :meth:`files`)."""
        return self.store.ensure_file(self.backend, self.slug, self.model, self._declared(filename))

    def _declared(self, filename: str) -> ModelFile:
        found = next((f for f in self.model.files if f.filename == filename), None)
        if found is None:
            raise ModelNotAvailable(self.model.name, filename, "not a file this model declares")
        return found
