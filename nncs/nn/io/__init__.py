"""Network file formats: ONNX, .nnet, JSON and NNV .mat, all through `load_network(path)`.

Saving: `save_network(net, path)` writes ONNX or JSON by extension.
"""

from __future__ import annotations

from pathlib import Path

from nncs.nn.io.onnx_io import load_onnx, network_from_onnx_model, network_to_onnx_model, save_onnx
from nncs.nn.io.text_formats import (
    load_json,
    load_mat,
    load_nnet,
    named_errors,
    network_from_json_dict,
    network_to_json_dict,
    read_json,
    read_text,
    save_json,
)
from nncs.nn.network import Network

__all__ = [
    "load_network", "save_network", "read_text", "read_json", "load_onnx", "save_onnx", "load_nnet", "load_json", "save_json", "load_mat",
    "NETWORK_SUFFIXES", "network_from_onnx_model", "network_to_onnx_model", "network_from_json_dict", "network_to_json_dict",
]  # fmt: skip

_LOADERS = {".onnx": load_onnx, ".nnet": load_nnet, ".json": load_json, ".mat": load_mat}
NETWORK_SUFFIXES = tuple(_LOADERS)
"""The network file kinds `load_network` reads (by file suffix, lower case)."""


MAX_NETWORK_BYTES = 2 * 2**30
"""Largest network file `load_network` reads (bytes)."""


def load_network(path: str | Path, nnet_normalize: bool = True, **options) -> Network:
    """Load a network from `path`, choosing the format by extension (.onnx, .nnet, .json, .mat).

    Args:
        path: the file.
        nnet_normalize: for a .nnet file, apply its header normalisation (the network then maps raw inputs to raw
            outputs, and may disagree with an ONNX export of the same network on normalised inputs); False: the
            bare network on normalised inputs and outputs. Ignored for the other formats.
        options: passed to the format's loader (e.g. `clip_inputs=True` for .nnet).
    Returns:
        The Network (exact).
    Raises:
        ValueError naming the file for a missing file, an unknown extension or a malformed file (any error
        while building the network from the file's content is re-raised as a ValueError naming the file).
    """
    path = Path(path)
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise ValueError(f"{path}: unknown network format {path.suffix!r} (known: {sorted(_LOADERS)})")
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    if path.stat().st_size > MAX_NETWORK_BYTES:
        raise ValueError(f"{path}: larger than {MAX_NETWORK_BYTES // 2**30} GiB; refused")
    if path.suffix.lower() == ".nnet":
        options = {"normalize": nnet_normalize, **options}
    with named_errors(path):
        return loader(path, **options)


def save_network(net: Network, path: str | Path) -> None:
    """Write `net` to `path` as ONNX (.onnx, float64) or JSON (.json), by extension."""
    path = Path(path)
    if path.suffix.lower() == ".onnx":
        save_onnx(net, path)
    elif path.suffix.lower() == ".json":
        save_json(net, path)
    else:
        raise ValueError(f"{path}: can save only .onnx or .json, not {path.suffix!r}")
