"""Fetch (or import) the models of the configured plugins into MODELS_ROOT.

    python -m tools.download_models                    # the plugins of FACE_DETECTION_PLUGIN, ... (build time)
    python -m tools.download_models --plugins insightface.Calculator@w600k_r50
    python -m tools.download_models --from ~/Downloads/buffalo_l   # offline: files obtained elsewhere
    python -m tools.download_models --list                # every installed plugin and its models

Exit code 0 when every model is in place and verified, 1 otherwise.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from facecore.config import load_settings
from facecore.errors import StartupError
from facecore.model_store import ModelNotAvailable, ModelStore
from facecore.pipeline import load_plugin
from facecore.plugin_manager import PluginRegistry, build_plugin_manager


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.download_models", description=__doc__.split("\n")[0])
    parser.add_argument("--plugins", nargs="*", help="plugin selections (default: the configured ones)")
    parser.add_argument("--from", dest="source", type=Path, help="import files from this folder, no download")
    parser.add_argument("--root", type=Path, help="MODELS_ROOT (default: from the environment)")
    parser.add_argument("--list", action="store_true", help="list installed plugins and their models")
    parser.add_argument("--no-prepare", action="store_true",
                        help="only fetch; do not load the plugins once to build derived files (ONNX conversions)")
    return parser.parse_args(argv)


def list_plugins(registry: PluginRegistry) -> None:
    for name in registry.names():
        cls = registry.classes[name]
        models = ", ".join(f"{m.name} ({m.licence})" for m in cls.models) or "-"
        print(f"{name:40s} slug={cls.slug:14s} models: {models}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        settings = load_settings()
        registry = PluginRegistry.from_manager(build_plugin_manager())
        if args.list:
            list_plugins(registry)
            return 0
        selections = args.plugins or [settings.detector, settings.calculator, *settings.extras]
        plugins = [registry.create(s) for s in selections]
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    store = ModelStore(args.root or settings.models_root, offline=args.source is not None)
    failures = 0
    for plugin in plugins:
        if plugin.model is None:
            continue
        models = store.for_plugin(plugin)  # the server's path rule
        try:
            imported = (store.import_from(models.backend, models.slug, models.model, args.source)
                        if args.source is not None else None)
            paths = models.files()
            if not args.no_prepare:  # converts MXNet/dlib files to ONNX now, so the server never writes
                load_plugin(plugin, store, settings.device)
            for path in paths.values():
                state = "ok  " if imported is None or path in imported else "present"
                print(f"{state} {plugin}: {path}")
        except (ModelNotAvailable, StartupError) as error:
            failures += 1
            print(f"FAIL {plugin}: {error}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
