"""Read a whole dlib DNN file (what ``dlib::serialize(net)`` writes) into a flat list of layers.

How dlib lays a network out (dlib/dnn/core.h): the loss wrapper writes its version and the loss
details, then its subnetwork. Every wrapper writes its version FIRST and then recurses into its
subnetwork, so the file starts with one version integer per wrapper, top-down, then the input
layer, and only then - bottom-up - each ``add_layer``'s details, three flags and its (cleared)
work tensors. ``add_tag_layer`` and ``add_skip_layer`` write nothing but a version integer (1), and
``add_layer`` writes 2 (3 for the one sitting on the input layer, 2 in older files), so the
versions tell the layers from the tag/skip markers. What a marker is (tag or skip) and its number,
and which tag an ``add_prev`` adds, are C++ template arguments and are NOT in the file: see
:mod:`srcext.dlib.topology`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from srcext.dlib.layers import INPUT_READERS, LAYER_READERS, LOSS_READERS, InputLayer, Layer, Loss, read_tagged
from srcext.dlib.serial import DlibFormatError, Reader

ADD_LAYER_VERSION = 2
INPUT_ADD_LAYER_VERSIONS = (2, 3)
MARKER_VERSION = 1


@dataclass
class Marker:
    """An ``add_tag_layer`` or ``add_skip_layer``; ``kind``/``tag`` are filled by the topology step."""

    kind: str | None = None  # "tag" or "skip"
    tag: int | None = None


@dataclass
class DlibNet:
    """A parsed file: ``items`` run top-down, from just under the loss to just above the input."""

    loss: Loss
    input: InputLayer
    items: list[Layer | Marker]

    def layers(self) -> list[Layer]:
        return [item for item in self.items if not isinstance(item, Marker)]


def _read_add_layer_body(reader: Reader, over_input: bool, version: int) -> Layer:
    details = read_tagged(reader, LAYER_READERS, "layer")
    for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, get_output..._disabled
        reader.read_bool()
    for _ in range(3):  # x_grad, cached_output, then params_grad (or grad_final over the input)
        reader.read_tensor()
    if over_input and version >= 3:
        reader.read_int()  # _sample_expansion_factor
    return details


def read_net(source: Path | str | bytes) -> DlibNet:
    """Parse a dlib DNN file (a path or its bytes); raises DlibFormatError on anything unexpected."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    reader = Reader(data)
    loss_version = reader.read_int()
    if loss_version != 1:
        raise DlibFormatError(f"add_loss_layer version {loss_version} is not supported (only 1)")
    loss = read_tagged(reader, LOSS_READERS, "loss layer")

    versions: list[int] = []
    while reader.peek_string() not in INPUT_READERS:
        at = reader.pos
        version = reader.read_int()
        if version not in (MARKER_VERSION, ADD_LAYER_VERSION, 3):
            raise DlibFormatError(f"unexpected layer wrapper version {version} at byte {at}")
        versions.append(version)
    input_layer = read_tagged(reader, INPUT_READERS, "input layer")
    if not versions:
        raise DlibFormatError("the network has no layers between its loss and its input")

    bottom_up: list[Layer | Marker] = []
    innermost = versions[-1]
    if innermost not in INPUT_ADD_LAYER_VERSIONS:
        raise DlibFormatError(f"the layer on the input has wrapper version {innermost}; expected 2 or 3")
    bottom_up.append(_read_add_layer_body(reader, over_input=True, version=innermost))
    for version in reversed(versions[:-1]):
        if version == MARKER_VERSION:
            bottom_up.append(Marker())
        elif version == ADD_LAYER_VERSION:
            bottom_up.append(_read_add_layer_body(reader, over_input=False, version=version))
        else:
            raise DlibFormatError(f"wrapper version {version} is only valid directly on the input layer")
    if not reader.at_end():
        raise DlibFormatError(f"{len(data) - reader.pos} unread bytes after the network at byte {reader.pos}")
    return DlibNet(loss, input_layer, list(reversed(bottom_up)))
