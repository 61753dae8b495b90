"""The `.nnet` (Reluplex / ACAS Xu), JSON (shared benchmark layout) and NNV `.mat` network formats.

Each loader returns a `Network` computing exactly what the file describes; broken files raise ValueError naming it.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from nncs.nn.network import IDENTITY, Linear, Network, ReLU, activation_from_name

__all__ = [
    "load_nnet",
    "load_json",
    "save_json",
    "load_mat",
    "network_to_json_dict",
    "network_from_json_dict",
]


MAX_PARAMETERS = 10**8
"""Most weights and biases a network file may declare (800 MB of float64); larger files are refused unread."""


@contextmanager
def named_errors(path: Path):
    """Re-raise any error of building a network from `path`'s content as a ValueError naming the file.

    ValueErrors that already name the file pass through; other ValueErrors, TypeError, IndexError, KeyError,
    AttributeError, OverflowError and RecursionError are prefixed with the file (their message cut short).
    """
    try:
        yield
    except (
        ValueError,
        TypeError,
        IndexError,
        KeyError,
        AttributeError,
        OverflowError,
        RecursionError,
    ) as exc:
        msg = str(exc)
        if isinstance(exc, ValueError) and str(path) in msg:
            raise
        what = "" if isinstance(exc, ValueError) else f"{type(exc).__name__}: "
        msg = msg if len(msg) <= 200 else msg[:200] + "..."
        raise ValueError(f"{path}: malformed network ({what}{msg})") from None


def read_text(path: Path, what: str = "file", max_bytes: int | None = None, error: type = ValueError) -> str:
    """The UTF-8 text of the file `path` (one reader for every loader of strangers' files).

    Args:
        path: the file.
        what: what the file is, for messages (e.g. "problem file").
        max_bytes: refuse a larger file unread (None: no limit).
        error: the ValueError subclass to raise.
    Raises:
        `error` naming the file when it cannot be read, is larger than `max_bytes` or is not UTF-8.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise error(f"{path}: {size} bytes is more than the limit of {max_bytes} bytes for a {what}")
        data = path.read_bytes()
    except OSError as e:
        raise error(f"{path}: cannot read the {what}: {e.strerror or e}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise error(
            f"{path}: not UTF-8 text (invalid byte at offset {e.start}: {e.reason}); expected a {what}"
        ) from None


def read_json(path: Path, what: str = "JSON file", max_bytes: int | None = None) -> object:
    """The parsed JSON content of the file `path` (read with `read_text`).

    Raises:
        ValueError naming the file when it cannot be read, is too large, is not UTF-8, is not valid JSON (with
        the line and the reason) or is nested too deeply for Python's parser.
    """
    text = read_text(path, what, max_bytes)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not a {what}: invalid JSON at line {e.lineno}: {e.msg}") from None
    except RecursionError:
        raise ValueError(f"{path}: not a {what}: JSON nested too deeply") from None


def _count(value: float, path: Path, lineno_what: str) -> int:
    """A positive integer count from a header number; ValueError naming the file otherwise."""
    if not np.isfinite(value) or value != int(value) or not 0 < value <= MAX_PARAMETERS:
        raise ValueError(
            f"{path}: {lineno_what} must be a positive integer (at most {MAX_PARAMETERS}), got {value}"
        )
    return int(value)


# ---------------------------------------------------------------------------------------------- .nnet
def load_nnet(path: str | Path, normalize: bool = True, clip_inputs: bool = False) -> Network:
    """Load a `.nnet` file (Julian/Katz format): hidden ReLU layers, linear output.

    Args:
        path: the file.
        normalize: include the header's normalisation as Linear layers: `x_n = (x - mean) / range` in front and
            `y = y_n * range_out + mean_out` behind, so the network maps raw inputs to raw scores. With False the
            network is the bare one on normalised inputs and outputs (what VNN-LIB ACAS Xu properties use).
        clip_inputs: also clip raw inputs to the header's [min, max] before normalising (as the reference
            evaluator does); only used with normalize=True.
    Returns:
        The Network (exact).
    Raises:
        ValueError naming the file and line on a malformed file.
    """
    path = Path(path)
    text = read_text(path, ".nnet file")
    lines = [(k + 1, ln) for k, ln in enumerate(text.splitlines())]
    lines = [(k, ln) for k, ln in lines if ln.strip() and not ln.lstrip().startswith("//")]
    pos = 0

    def row(what: str, count: int | None = None) -> np.ndarray:
        nonlocal pos
        if pos >= len(lines):
            raise ValueError(f"{path}: file ends before {what}")
        lineno, ln = lines[pos]
        pos += 1
        try:
            vals = np.array([float(t) for t in ln.replace(",", " ").split()], dtype=float)
        except ValueError:
            raise ValueError(
                f"{path}: line {lineno}: cannot parse numbers for {what}: {ln.strip()[:60]!r}"
            ) from None
        if count is not None and vals.size != count:
            raise ValueError(f"{path}: line {lineno}: {what} has {vals.size} values, expected {count}")
        return vals

    head = row("the header", 4)
    n_layers, n_in, n_out = (
        _count(v, path, f"header value {k} ({name})")
        for k, (v, name) in enumerate(zip(head[:3], ("layers", "inputs", "outputs")))
    )
    if n_layers > 10**4:
        raise ValueError(f"{path}: header declares {n_layers} layers (at most 10000)")
    raw_sizes = row("the layer sizes", n_layers + 1)
    sizes = np.array([_count(v, path, f"layer size {k}") for k, v in enumerate(raw_sizes)], dtype=np.int64)
    n_params = int(np.sum(sizes[:-1] * sizes[1:] + sizes[1:]))
    if n_params > MAX_PARAMETERS:
        raise ValueError(
            f"{path}: layer sizes {sizes.tolist()[:8]} declare {n_params} parameters "
            f"(at most {MAX_PARAMETERS})"
        )
    if sizes[0] != n_in or sizes[-1] != n_out:
        raise ValueError(
            f"{path}: layer sizes {sizes.tolist()} disagree with {n_in} inputs / {n_out} outputs"
        )
    row("the symmetric flag")
    mins = row("the input minimums", n_in)
    maxs = row("the input maximums", n_in)
    means = row("the means", n_in + 1)
    ranges = row("the ranges", n_in + 1)
    layers: list = []
    if normalize:
        if clip_inputs:
            from nncs.nn.io.onnx_io import clip_layers

            eye = np.eye(n_in)
            width = maxs - mins  # per-input clip as lo + w * satlin((x - lo) / w)
            if np.any(width <= 0):
                raise ValueError(f"{path}: input minimums are not below the maximums")
            layers += (
                [Linear(eye / width, -mins / width)]
                + clip_layers(0.0, 1.0, n_in)[:1]
                + [Linear(np.diag(width), mins)]
            )
        if np.any(ranges == 0):
            raise ValueError(f"{path}: a normalisation range is zero")
        layers.append(Linear(np.diag(1.0 / ranges[:n_in]), -means[:n_in] / ranges[:n_in]))
    for k in range(n_layers):
        W = np.vstack([row(f"row {r} of the weights of layer {k}", sizes[k]) for r in range(sizes[k + 1])])
        b = np.concatenate([row(f"bias {r} of layer {k}", 1) for r in range(sizes[k + 1])])
        layers.append(Linear(W, b))
        if k < n_layers - 1:
            layers.append(ReLU())
    if normalize:
        layers.append(Linear(np.eye(n_out) * ranges[n_in], np.full(n_out, means[n_in])))
    try:
        return (
            Network(tuple(layers)).simplified() if normalize and not clip_inputs else Network(tuple(layers))
        )
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


# ---------------------------------------------------------------------------------------------- JSON
def network_from_json_dict(data: dict, source: str = "network") -> Network:
    """Return the network of a JSON-style dict `{"layers": [{"W", "b", "activation"}, ...]}` (exact)."""
    if not isinstance(data, dict) or "layers" not in data:
        raise ValueError(f"{source}: expected an object with a 'layers' key")
    if not isinstance(data["layers"], list) or not data["layers"]:
        raise ValueError(f"{source}: 'layers' must be a non-empty list")
    layers: list = []
    for i, spec in enumerate(data["layers"]):
        where = f"{source}: layers[{i}]"
        if not isinstance(spec, dict):
            raise ValueError(f"{where}: expected an object with W, b, activation")
        for key in ("W", "b"):
            if key not in spec:
                raise ValueError(f"{where}: missing key {key!r}")
        try:
            W = np.array(spec["W"], dtype=float)
            b = np.array(spec["b"], dtype=float)
        except (TypeError, ValueError, OverflowError, RecursionError):
            raise ValueError(f"{where}: W and b must be numeric arrays") from None
        if W.ndim != 2:
            raise ValueError(f"{where}: W must be 2-D (out, in), got shape {W.shape}")
        if b.reshape(-1).shape[0] != W.shape[0]:
            raise ValueError(f"{where}: b has {b.size} entries but W has {W.shape[0]} rows")
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError(f"{where}: W or b has NaN or infinite entries")
        if layers and W.shape[1] != _out_dim(layers):
            raise ValueError(
                f"{where}: W expects {W.shape[1]} inputs but the previous layer gives {_out_dim(layers)}"
            )
        layers.append(Linear(W, b))
        act = activation_from_name(spec.get("activation", "linear"), where)
        if act.shape != IDENTITY:
            layers.append(act)
    return Network(tuple(layers))


def _out_dim(layers: list) -> int:
    return next(lay.out_dim for lay in reversed(layers) if isinstance(lay, Linear))


def load_json(path: str | Path) -> Network:
    """Load the JSON network format of the shared closed-loop benchmarks (`x <- act(W x + b)` per layer). Exact."""
    path = Path(path)
    data = read_json(path, "JSON network")
    with named_errors(path):
        return network_from_json_dict(data, source=str(path))


def network_to_json_dict(net: Network) -> dict:
    """Return the JSON-format dict of `net`: each Linear layer followed by its activation (identity if none)."""
    out: list[dict] = []
    layers = list(net.layers)
    i = 0
    dim = net.n_inputs
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, Linear):
            W, b = layer.W, layer.b
            i += 1
        else:  # an activation without a Linear in front: identity Linear
            W, b = np.eye(dim), np.zeros(dim)
        act: dict | str = "linear"
        if i < len(layers) and not isinstance(layers[i], Linear):
            a = layers[i]
            act = a.to_spec()
            i += 1
        out.append({"W": W.tolist(), "b": b.tolist(), "activation": act})
        dim = W.shape[0]
    if not out:
        out.append({"W": np.eye(dim).tolist(), "b": [0.0] * dim, "activation": "linear"})
    return {"layers": out}


def save_json(net: Network, path: str | Path, **extra) -> None:
    """Write `net` in the JSON network format (float64 values written exactly by repr); extra keys are added."""
    data = network_to_json_dict(net)
    data.update(extra)
    Path(path).write_text(json.dumps(data))


# ---------------------------------------------------------------------------------------------- .mat
def _cells(value, key: str, path: Path) -> list[np.ndarray]:
    arr = np.asarray(value)
    if arr.dtype == object:
        try:
            return [np.asarray(v, dtype=float) for v in arr.reshape(-1, order="F")]
        except (TypeError, ValueError):
            raise ValueError(f"{path}: {key!r} must hold numeric matrices (a cell is not numeric)") from None
    raise ValueError(f"{path}: {key!r} must be a cell array (one matrix per layer)")


def load_mat(path: str | Path, hidden_activation: str = "relu", output_activation: str = "linear") -> Network:
    """Load an NNV/MATLAB `.mat` file with cell arrays `W` and `b` (W{k} of shape (out, in)). Exact.

    Activations come from a cell array `act_fcns` (or `activations`) when the file has one, else
    `hidden_activation` on every layer but the last and `output_activation` on the last.
    """
    import scipy.io

    path = Path(path)
    try:
        data = scipy.io.loadmat(str(path))
    except Exception as e:
        raise ValueError(f"{path}: not a readable .mat file ({type(e).__name__}: {e})") from None
    for key in ("W", "b"):
        if key not in data:
            raise ValueError(
                f"{path}: missing variable {key!r} (found {sorted(k for k in data if not k.startswith('__'))})"
            )
    Ws, bs = _cells(data["W"], "W", path), _cells(data["b"], "b", path)
    if len(Ws) != len(bs):
        raise ValueError(f"{path}: {len(Ws)} weight matrices but {len(bs)} bias vectors")
    acts = None
    for key in ("act_fcns", "activations", "act_functions"):
        if key in data:
            raw = np.asarray(data[key]).reshape(-1, order="F")
            acts = [str(np.asarray(a).reshape(-1)[0]) if np.asarray(a).size else "linear" for a in raw]
            if len(acts) != len(Ws):
                raise ValueError(f"{path}: {key!r} has {len(acts)} entries for {len(Ws)} layers")
    if acts is None:
        acts = [hidden_activation] * (len(Ws) - 1) + [output_activation]
    layer_specs = [
        {"W": np.atleast_2d(W).tolist(), "b": b.reshape(-1).tolist(), "activation": a}
        for W, b, a in zip(Ws, bs, acts)
    ]
    with named_errors(path):
        return network_from_json_dict({"layers": layer_specs}, source=str(path))
