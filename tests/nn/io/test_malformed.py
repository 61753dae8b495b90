"""Malformed network files (nncs/nn/io): every loader raises a short ValueError naming the file, never another
exception, and refuses sizes that cannot fit before allocating."""

import json

import numpy as np
import pytest

from nncs.nn import load_network
from nncs.nn.network import Linear, Network

NNET = """2,2,1,3,
2,3,1,
0,
0.0,0.0,
1.0,1.0,
0.0,0.0,0.0,
1.0,1.0,2.0,
1.0,2.0,
3.0,-1.0,
0.5,1.0,
-2.0,
0.5,
-1.0,
0.0,1.0,1.0,
0.25,
"""


def _nnet(tmp_path, text):
    path = tmp_path / "net.nnet"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "first_line,message",
    [
        ("inf,2,1,3,", "header value 0"),
        ("nan,2,1,3,", "header value 0"),
        ("2,0,1,3,", "inputs"),
        ("2,2,-1,3,", "outputs"),
        ("2.5,2,1,3,", "header value 0"),
    ],
)
def test_nnet_header_counts_must_be_positive_integers(tmp_path, first_line, message):
    path = _nnet(tmp_path, NNET.replace("2,2,1,3,", first_line, 1))
    with pytest.raises(ValueError, match="net.nnet") as exc:
        load_network(path)
    assert message in str(exc.value)


def test_nnet_sizes_that_cannot_fit_are_refused_before_reading_weights(tmp_path):
    path = _nnet(
        tmp_path, NNET.replace("2,3,1,", "2,100000,100000,", 1).replace("2,2,1,3,", "2,2,100000,3,", 1)
    )
    with pytest.raises(ValueError, match="parameters"):
        load_network(path)


def test_nnet_normalize_false_is_the_bare_network_and_true_applies_the_header(tmp_path):
    path = _nnet(tmp_path, NNET)
    bare = load_network(path, nnet_normalize=False)
    raw = load_network(path)
    x = np.random.default_rng(0).uniform(0, 1, size=(20, 2))
    # header: means (0, 0 | 0), ranges (1, 1 | 2): raw(x) = 2 * bare((x - 0) / 1) + 0, computed by hand here
    np.testing.assert_allclose(raw(x), 2.0 * bare(x), rtol=1e-12)
    # the bare network, recomputed with numpy from the weight rows above
    W1, b1 = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 1.0]]), np.array([-2.0, 0.5, -1.0])
    W2, b2 = np.array([[0.0, 1.0, 1.0]]), np.array([0.25])
    np.testing.assert_allclose(bare(x), np.maximum(x @ W1.T + b1, 0) @ W2.T + b2, rtol=1e-12)


@pytest.mark.parametrize(
    "content",
    [
        b"\xff{}",
        b'{"layers": ' + b"[" * 100000 + b"]" * 100000 + b"}",
        json.dumps(
            {"layers": [{"W": [[1.0]], "b": [0.0], "activation": {"name": "leakyrelu", "alpha": "x"}}]}
        ).encode(),
        json.dumps({"layers": [{"W": [[1.0]], "b": [0.0], "activation": 7}]}).encode(),
        json.dumps({"layers": [{"W": [[1.0, 2.0]], "b": [0.0, 1.0], "activation": "relu"}]}).encode(),
        json.dumps({"layers": [{"W": [[]], "b": [0.0], "activation": "relu"}]}).encode(),
        json.dumps(
            {"layers": [{"W": [[1.0]], "b": [0.0]}, {"W": [], "b": [], "activation": "relu"}]}
        ).encode(),
    ],
)
def test_malformed_json_networks_are_a_short_error_naming_the_file(tmp_path, content):
    path = tmp_path / "net.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="net.json") as exc:
        load_network(path)
    assert len(str(exc.value)) < 400


def test_zero_size_layers_are_refused_by_the_network_itself():
    with pytest.raises(ValueError, match="layer 1"):
        Network((Linear(np.ones((2, 2)), np.zeros(2)), Linear(np.ones((0, 2)), np.zeros(0))))
