"""Discovery: entry points -> pluggy -> a registry ``{declared name: class}``.

Built-in plugin packages (``plugins/``) register through the same entry-point group as any
third-party package, so nothing in the core names them.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Iterable

import pluggy

from facecore import ENTRY_POINT_GROUP, PROJECT, hookspecs
from facecore.errors import StartupError
from facecore.plugin_api import PLUGIN_NAME, ModelSpec, Plugin

log = logging.getLogger(__name__)


def build_plugin_manager(load_entrypoints: bool = True,
                         modules: Iterable[tuple[str, object]] = ()) -> pluggy.PluginManager:
    """A plugin manager with our hookspecs, the installed entry points and any extra ``(name, module)``.

    ``FACECORE_LOAD_PLUGINS=a,b`` limits entry-point loading to those names (handy to isolate a
    broken third-party package); an import failure names the plugin package.
    """
    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    if load_entrypoints:
        only = {n for n in os.environ.get("FACECORE_LOAD_PLUGINS", "").replace(",", " ").split() if n}
        from importlib.metadata import entry_points

        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if (only and ep.name not in only) or pm.has_plugin(ep.name):
                continue
            try:
                module = ep.load()
            except Exception as error:  # a broken third-party package must say who it is
                raise StartupError(f'Error importing plugin package "{ep.name}" ({ep.value}): {error}') from error
            pm.register(module, name=ep.name)
    for name, module in modules:
        pm.register(module, name=name)
    pm.check_pending()
    return pm


@dataclass(frozen=True)
class PluginRegistry:
    """All plugin classes that are installed, by their config name."""

    classes: dict[str, type[Plugin]]

    @classmethod
    def from_manager(cls, pm: pluggy.PluginManager) -> "PluginRegistry":
        classes: dict[str, type[Plugin]] = {}
        packages: dict[str, str] = {}
        for impl in pm.hook.register_plugins.get_hookimpls():
            found = impl.function() or []
            if not isinstance(found, (list, tuple)):
                raise StartupError(f"plugin package {impl.plugin_name!r}: register_plugins() returned {found!r}, "
                                   f"not a list of plugin classes")
            for plugin_cls in found:
                name = declared_name(impl.plugin_name, plugin_cls)
                if name in classes:
                    raise StartupError(f"plugin name {name!r} is declared twice: by {describe(classes[name])} "
                                       f"in package {packages[name]!r} and by {describe(plugin_cls)} in package "
                                       f"{impl.plugin_name!r}")
                classes[name], packages[name] = plugin_cls, impl.plugin_name
        return cls(classes)

    def names(self) -> list[str]:
        return sorted(self.classes)

    def create(self, selection: str, kind: type[Plugin] = Plugin) -> Plugin:
        """Instantiate ``name[@model]``, checking the kind and the model name."""
        name, _, model_name = selection.strip().partition("@")
        plugin_cls = self.classes.get(name)
        if plugin_cls is None:
            fitting = [n for n, c in sorted(self.classes.items()) if issubclass(c, kind)]
            raise StartupError(f"unknown plugin {name!r}; installed {kind.__name__} plugins: "
                               f"{', '.join(fitting) or 'none'}")
        if not issubclass(plugin_cls, kind):
            raise StartupError(f"plugin {name!r} is not a {kind.__name__}")
        spec = plugin_cls.find_model(model_name or None)
        if spec is None and model_name:
            try:
                spec = resolve_custom_model(plugin_cls, model_name)
            except ValueError as error:  # e.g. a name that would escape MODELS_ROOT
                raise StartupError(f"{name}@{model_name}: {error}") from error
        if plugin_cls.models and spec is None:
            raise StartupError(f"unknown model {model_name!r} for {name}; "
                               f"choices: {', '.join(plugin_cls.model_names())}")
        if model_name and not plugin_cls.models and spec is None:
            raise StartupError(f"plugin {name} takes no model, got @{model_name}")
        plugin = plugin_cls(spec)
        plugin.model_name_given = bool(model_name)
        return plugin


def describe(plugin_cls: type) -> str:
    return f"{plugin_cls.__module__}.{plugin_cls.__qualname__}"


def declared_name(package: str, plugin_cls: object) -> str:
    """The config name a registered class declares itself (``name``), checked; refusals name the package."""
    if not (isinstance(plugin_cls, type) and issubclass(plugin_cls, Plugin)):
        raise StartupError(f"plugin package {package!r} registered {plugin_cls!r}, which is not a Plugin subclass")
    name = vars(plugin_cls).get("name")
    if not isinstance(name, str) or not PLUGIN_NAME.match(name):
        raise StartupError(f"plugin package {package!r} registered {describe(plugin_cls)}, which declares "
                           f"no valid name (got {name!r}): set the class attribute name = \"family.Name\" "
                           f"(two or three dotted parts of letters, digits and '_')")
    return name


def resolve_custom_model(plugin_cls: type[Plugin], model_name: str) -> ModelSpec | None:
    """Ask the plugin class for a model it does not declare (e.g. a local ONNX file under a name of
    one's own). Plugins opt in with a classmethod ``custom_model(name)``."""
    custom = getattr(plugin_cls, "custom_model", None)
    return custom(model_name) if custom else None
