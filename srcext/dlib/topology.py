"""Give a parsed dlib file its skip connections back, from the network's C++ type.

A dlib file records no tag numbers (they are template arguments), so a net with ``tagN`` /
``skipN`` / ``add_prevN`` layers can only be rebuilt against its type definition. A template is
that type written top-down as tokens, one per wrapper: ``"con"``, ``"affine"``, ``"relu"``,
``"max_pool"``, ``"avg_pool"``, ``"fc"``, ``"add_prev<N>"``, ``"tag<N>"``, ``"skip<N>"``. Matching
checks every token against the file, so a wrong template fails loudly instead of converting a
different network.
"""
from __future__ import annotations

import re
from dataclasses import replace

from srcext.dlib.layers import AddPrev, Affine, Conv, FullyConnected, Pool, Relu
from srcext.dlib.netfile import DlibNet, Marker
from srcext.dlib.serial import DlibFormatError

_NUMBERED = re.compile(r"^(add_prev|tag|skip)(\d+)$")


def kind_of(item) -> str:
    """The template token kind a parsed item stands for (markers are "marker": tag or skip)."""
    if isinstance(item, Marker):
        return "marker"
    if isinstance(item, Pool):
        return f"{item.kind}_pool"
    names = {Conv: "con", Affine: "affine", Relu: "relu", FullyConnected: "fc", AddPrev: "add_prev"}
    return names[type(item)]


def apply_template(net: DlibNet, template: list[str]) -> DlibNet:
    """Return ``net`` with markers and ``add_prev`` layers numbered as ``template`` says."""
    if len(template) != len(net.items):
        raise DlibFormatError(f"template has {len(template)} layers, the file {len(net.items)}")
    items = []
    for index, (token, item) in enumerate(zip(template, net.items)):
        numbered = _NUMBERED.match(token)
        base = numbered.group(1) if numbered else token
        expected = "marker" if base in ("tag", "skip") else base
        if expected != kind_of(item):
            raise DlibFormatError(f"layer {index} (top-down): template says {token!r}, file has {kind_of(item)!r}")
        if numbered and isinstance(item, AddPrev):  # kind_of(item) == "add_prev" was checked above
            item = replace(item, tag=int(numbered.group(2)))
        elif numbered:
            item = Marker(base, int(numbered.group(2)))
        items.append(item)
    return DlibNet(net.loss, net.input, items)


def require_plain_chain(net: DlibNet) -> DlibNet:
    """Nets without tags or skips (e.g. the MMOD detector) need no template."""
    for index, item in enumerate(net.items):
        if isinstance(item, (Marker, AddPrev)):
            raise DlibFormatError(f"layer {index} is a {kind_of(item)}: this net needs a topology template")
    return net


# --- dlib's face recognition ResNet (dlib_face_recognition_resnet_model_v1), top-down --------------
# Written from the network type in dlib's examples/dnn_face_recognition_ex.cpp:
#   block<N,BN,stride>  = BN<con<N,3,3,1,1,relu<BN<con<N,3,3,stride,stride,SUBNET>>>>>
#   residual            = add_prev1<block<...,1,tag1<SUBNET>>>
#   residual_down       = add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<...,2,tag1<SUBNET>>>>>>
#   ares / ares_down    = relu<residual / residual_down>
#   anet = loss_metric<fc_no_bias<128,avg_pool_everything<level0<level1<level2<level3<level4<
#          max_pool<3,3,2,2,relu<affine<con<32,7,7,2,2,input_rgb_image_sized<150>>>>>>>>>>>>>


def _block() -> list[str]:
    return ["affine", "con", "relu", "affine", "con"]


def _ares() -> list[str]:
    return ["relu", "add_prev1", *_block(), "tag1"]


def _ares_down() -> list[str]:
    return ["relu", "add_prev2", "avg_pool", "skip1", "tag2", *_block(), "tag1"]


def face_resnet_template() -> list[str]:
    """The 130 wrappers of dlib's 29-conv face recognition ResNet, top-down."""
    level0 = _ares_down()
    level1 = _ares() + _ares() + _ares_down()
    level2 = _ares() + _ares() + _ares_down()
    level3 = _ares() + _ares() + _ares() + _ares_down()
    level4 = _ares() + _ares() + _ares()
    stem = ["max_pool", "relu", "affine", "con"]
    return ["fc", "avg_pool", *level0, *level1, *level2, *level3, *level4, *stem]
