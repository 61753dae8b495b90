"""ONNX reading and writing: feed-forward graphs folded into the layer list of a `Network`.

Supported operators: Gemm, MatMul, Add, Sub, Mul, Div (with constants), Flatten, Reshape, Identity, Constant,
Clip (any bounds), and the ONNX operator of every registered activation (`ACTIVATION_OPS`: Relu, LeakyRelu,
Tanh, Sigmoid, Softsign, ...). Anything else raises ValueError naming the operator and the node.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nncs.nn.network import ACTIVATIONS, Activation, Linear, Network, ReLU, SatLin

__all__ = [
    "load_onnx",
    "save_onnx",
    "network_from_onnx_model",
    "network_to_onnx_model",
    "SUPPORTED_OPS",
    "ACTIVATION_OPS",
    "activation_from_onnx",
    "clip_layers",
]


ACTIVATION_OPS: dict[str, tuple[type[Activation], ...]] = {}
"""ONNX operator -> the activation classes computing it (each class's `onnx_op`, in definition order); import
and export both use it. Kept in step with `ACTIVATIONS` (a class defined later joins on the next read or write)."""

_SYNCED: list[int] = [0]


def _sync_activation_ops() -> None:
    """Rebuild ACTIVATION_OPS in place when the activation registry has grown."""
    if _SYNCED[0] == len(ACTIVATIONS):
        return
    table: dict[str, list] = {}
    for cls in dict.fromkeys(ACTIVATIONS.values()):
        if cls.onnx_op is not None:
            table.setdefault(cls.onnx_op, []).append(cls)
    ACTIVATION_OPS.clear()
    ACTIVATION_OPS.update({op: tuple(classes) for op, classes in table.items()})
    _SYNCED[0] = len(ACTIVATIONS)


_sync_activation_ops()

_GRAPH_OPS = (
    "Gemm",
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Clip",
    "Flatten",
    "Reshape",
    "Identity",
    "Constant",
)

SUPPORTED_OPS = tuple(dict.fromkeys(_GRAPH_OPS + tuple(ACTIVATION_OPS)))
"""Every ONNX operator the reader folds into a Network (the graph operators and those of ACTIVATION_OPS)."""


def activation_from_onnx(op: str, params: dict) -> Activation | None:
    """The activation an ONNX node `op` with these parameters (attributes and constant inputs, by name)
    computes, from `ACTIVATION_OPS` (the first class that accepts them), or None."""
    _sync_activation_ops()
    for cls in ACTIVATION_OPS.get(op, ()):
        act = cls.from_onnx(params)
        if act is not None:
            return act
    return None


def _attrs(node) -> dict:
    import onnx.helper

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _f32(value) -> float:
    """A float32 attribute as the shortest decimal that rounds to it (0.05f -> 0.05): what the writer meant."""
    return float(str(np.float32(value)))


def _node_label(node, index: int) -> str:
    return f"node {index} {node.name!r}" if node.name else f"node {index} (output {node.output[0]!r})"


def clip_layers(lo: float, hi: float, dim: int) -> list:
    """Layers computing clip(x, lo, hi) element-wise (lo, hi may be infinite). Exact.

    A registered activation that is this Clip (SatLin: [0, 1]; SatLins: [-1, 1]) is used as it is; other bounds
    become ReLU or SatLin between affine layers.
    """
    eye = np.eye(dim)
    if lo == -np.inf and hi == np.inf:
        return []
    act = activation_from_onnx("Clip", {"min": lo, "max": hi})
    if act is not None:
        return [act]
    if lo == 0.0 and hi == np.inf:
        return [ReLU()]
    if hi == np.inf:  # relu(x - lo) + lo
        return [Linear(eye, -lo * np.ones(dim)), ReLU(), Linear(eye, lo * np.ones(dim))]
    if lo == -np.inf:  # hi - relu(hi - x)
        return [Linear(-eye, hi * np.ones(dim)), ReLU(), Linear(-eye, hi * np.ones(dim))]
    if not hi > lo:
        raise ValueError(f"Clip with min {lo} >= max {hi}")
    w = hi - lo  # lo + w * satlin((x - lo) / w)
    return [Linear(eye / w, -lo / w * np.ones(dim)), SatLin(), Linear(eye * w, lo * np.ones(dim))]


def _input_dim(value_info) -> int | None:
    dims = value_info.type.tensor_type.shape.dim
    known = [d.dim_value for d in dims if d.HasField("dim_value")]
    if len(dims) == 0:
        return None
    # a leading symbolic dimension is the batch; every static dimension multiplies
    return int(np.prod(known)) if known else None


def network_from_onnx_model(model, source: str = "model") -> Network:
    """Return the Network that an in-memory ONNX `ModelProto` computes (exact; weights in float64).

    Raises:
        ValueError naming the operator and node for unsupported operators or non-chain graphs.
    """
    import onnx.numpy_helper as nph

    _sync_activation_ops()
    graph = model.graph
    consts: dict[str, np.ndarray] = {t.name: nph.to_array(t).astype(float) for t in graph.initializer}
    data_inputs = [i for i in graph.input if i.name not in consts]
    if len(data_inputs) != 1:
        raise ValueError(
            f"{source}: expected exactly one non-constant graph input, found {[i.name for i in data_inputs]}"
        )
    current = data_inputs[0].name
    dim = _input_dim(data_inputs[0])
    n_inputs = dim
    layers: list = []

    def need_dim(label: str) -> int:
        if dim is None:
            raise ValueError(
                f"{source}: {label} needs the input dimension, which the graph input does not state"
            )
        return dim

    def const_vector(name: str, label: str) -> np.ndarray:
        value = consts[name].reshape(-1)
        d = need_dim(label)
        if value.size == 1:
            return np.full(d, float(value[0]))
        if value.size != d:
            raise ValueError(f"{source}: {label}: constant {name!r} has {value.size} entries, data has {d}")
        return value

    for index, node in enumerate(graph.node):
        op = node.op_type
        label = f"{_node_label(node, index)} ({op})"
        if op not in _GRAPH_OPS and op not in ACTIVATION_OPS:
            raise ValueError(f"{source}: unsupported ONNX operator {op!r} at {_node_label(node, index)}")
        attrs = _attrs(node)
        ins = [n for n in node.input]
        if op == "Constant":
            if "value" in attrs:
                consts[node.output[0]] = nph.to_array(attrs["value"]).astype(float)
            elif "value_float" in attrs:
                consts[node.output[0]] = np.array(attrs["value_float"], dtype=float)
            elif "value_floats" in attrs:
                consts[node.output[0]] = np.array(attrs["value_floats"], dtype=float)
            elif "value_int" in attrs:
                consts[node.output[0]] = np.array(attrs["value_int"], dtype=float)
            elif "value_ints" in attrs:
                consts[node.output[0]] = np.array(attrs["value_ints"], dtype=float)
            else:
                raise ValueError(f"{source}: {label}: unsupported Constant attribute {sorted(attrs)}")
            continue
        data_pos = [k for k, name in enumerate(ins) if name and name not in consts]
        if not data_pos:  # constant folding of operators whose inputs are all constants
            consts[node.output[0]] = _fold_constant(
                op, [consts[n] for n in ins if n], attrs, f"{source}: {label}"
            )
            continue
        if len(data_pos) > 1 or ins[data_pos[0]] != current:
            raise ValueError(f"{source}: {label} does not continue a single feed-forward chain")
        pos = data_pos[0]
        if op in ("Flatten", "Reshape", "Identity"):
            pass  # the data is kept as a flat row-major vector: these change nothing
        elif op == "Gemm":
            if pos != 0 or attrs.get("transA", 0):
                raise ValueError(f"{source}: {label}: only Gemm(data, W, b) with transA=0 is supported")
            B = consts[ins[1]]
            B = B.T if attrs.get("transB", 0) else B
            W = _f32(attrs.get("alpha", 1.0)) * B.T
            if len(ins) > 2 and ins[2]:
                b = _f32(attrs.get("beta", 1.0)) * np.broadcast_to(consts[ins[2]].reshape(-1), (W.shape[0],))
            else:
                b = np.zeros(W.shape[0])
            layers.append(Linear(W, b))
            dim = W.shape[0]
        elif op == "MatMul":
            M = consts[ins[1 - pos]]
            if M.ndim != 2:
                raise ValueError(f"{source}: {label}: MatMul constant must be 2-D, got shape {M.shape}")
            W = M.T if pos == 0 else M  # x @ M  or  M @ x
            layers.append(Linear(W, np.zeros(W.shape[0])))
            dim = W.shape[0]
        elif op in ("Add", "Sub", "Mul", "Div"):
            c = const_vector(ins[1 - pos], label)
            d = c.shape[0]
            if op == "Add":
                layers.append(Linear(np.eye(d), c))
            elif op == "Sub":
                layers.append(Linear(np.eye(d), -c) if pos == 0 else Linear(-np.eye(d), c))
            elif op == "Mul":
                layers.append(Linear(np.diag(c), np.zeros(d)))
            else:
                if pos != 0:
                    raise ValueError(f"{source}: {label}: division of a constant by the data is not affine")
                if np.any(c == 0):
                    raise ValueError(f"{source}: {label}: division by zero")
                layers.append(Linear(np.diag(1.0 / c), np.zeros(d)))
        elif op == "Clip" or op in ACTIVATION_OPS:
            params = _activation_params(op, attrs, ins, consts)
            act = activation_from_onnx(op, params)
            if act is not None:
                layers.append(act)
            elif op == "Clip":
                lo, hi = float(params.get("min", -np.inf)), float(params.get("max", np.inf))
                try:
                    layers.extend(clip_layers(lo, hi, need_dim(label)))
                except ValueError as e:
                    raise ValueError(f"{source}: {label}: {e}") from None
            else:
                raise ValueError(f"{source}: {label}: unsupported parameters {params}")
        current = node.output[0]

    outputs = [o.name for o in graph.output]
    if outputs != [current]:
        raise ValueError(f"{source}: graph outputs {outputs} are not the end of the chain {current!r}")
    try:
        net = Network(tuple(layers), n_inputs=n_inputs)
    except ValueError as e:
        raise ValueError(f"{source}: {e}") from None
    return net.simplified()


def _activation_params(op: str, attrs: dict, ins: list, consts: dict) -> dict:
    """An activation node's parameters by name: float attributes (as the float32 decimals they spell) and
    the constant inputs that the op's classes declare in `onnx_inputs` (by position after the data)."""
    if (
        op == "Clip"
    ):  # Clip(data, min, max) with any bounds is read even when no activation class matches them
        names: tuple = ("min", "max")
    else:
        names = next((tuple(cls.onnx_inputs) for cls in ACTIVATION_OPS.get(op, ())), ())
    params = {
        k: (float(v) if k in names else _f32(v)) for k, v in attrs.items() if isinstance(v, (int, float))
    }
    for k, name in enumerate(names):
        if len(ins) > k + 1 and ins[k + 1]:
            params[name] = float(consts[ins[k + 1]].reshape(-1)[0])
    return params


def _fold_constant(op: str, values: list[np.ndarray], attrs: dict, label: str) -> np.ndarray:
    if op in ("Identity", "Flatten"):
        v = values[0]
        return v if op == "Identity" else v.reshape(int(np.prod(v.shape[: attrs.get("axis", 1)])), -1)
    if op == "Reshape":
        return values[0].reshape([int(s) for s in values[1]])
    ops = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "MatMul": np.matmul}
    if op in ops:
        return ops[op](values[0], values[1])
    raise ValueError(f"{label}: cannot fold {op} over constants")


def load_onnx(path: str | Path) -> Network:
    """Load an ONNX file as a Network (exact: the same function, weights widened to float64).

    Raises:
        ValueError naming the file when it cannot be parsed (truncated, not ONNX) and naming the
        operator and node for an unsupported operator.
    """
    import onnx

    path = Path(path)
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf DecodeError and friends
        raise ValueError(f"{path}: not a readable ONNX file ({type(e).__name__}: {e})") from None
    if not model.graph.node and not model.graph.input:
        raise ValueError(f"{path}: not a readable ONNX file (empty graph; truncated?)")
    from nncs.nn.io.text_formats import named_errors

    with named_errors(path):
        return network_from_onnx_model(model, source=str(path))


def network_to_onnx_model(net: Network, dtype: str = "float64", opset: int = 13):
    """Return an ONNX ModelProto computing `net` (Gemm + activation nodes; batch dimension symbolic)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    _sync_activation_ops()
    np_dtype = {"float64": np.float64, "float32": np.float32}[dtype]
    elem = TensorProto.DOUBLE if dtype == "float64" else TensorProto.FLOAT
    nodes, inits = [], []
    cur = "input"
    for i, layer in enumerate(net.layers):
        out = f"l{i}"
        if isinstance(layer, Linear):
            inits.append(numpy_helper.from_array(layer.W.astype(np_dtype), f"W{i}"))
            inits.append(numpy_helper.from_array(layer.b.astype(np_dtype), f"b{i}"))
            nodes.append(helper.make_node("Gemm", [cur, f"W{i}", f"b{i}"], [out], name=f"gemm{i}", transB=1))
        elif isinstance(layer, Activation) and layer.onnx_op in ACTIVATION_OPS:
            params = layer.onnx_params()
            ins = [cur]
            for name in layer.onnx_inputs:  # constant inputs (Clip's min, max)
                inits.append(
                    numpy_helper.from_array(np.array(params.pop(name), dtype=np_dtype), f"{name}{i}")
                )
                ins.append(f"{name}{i}")
            nodes.append(
                helper.make_node(layer.onnx_op, ins, [out], name=f"{layer.onnx_op.lower()}{i}", **params)
            )
        else:
            raise ValueError(f"layer {i}: cannot save {layer!r} to ONNX")
        cur = out
    if not nodes:
        nodes.append(helper.make_node("Identity", [cur], ["l0"], name="id0"))
        cur = "l0"
    graph = helper.make_graph(
        nodes,
        "nncs_network",
        [helper.make_tensor_value_info("input", elem, ["batch", net.n_inputs])],
        [helper.make_tensor_value_info(cur, elem, ["batch", net.n_outputs])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="nncs")
    onnx.checker.check_model(model)
    return model


def save_onnx(net: Network, path: str | Path, dtype: str = "float64") -> None:
    """Write `net` as an ONNX file (float64 by default, so it reloads to the same function exactly)."""
    import onnx

    onnx.save(network_to_onnx_model(net, dtype=dtype), str(path))
