"""The project's own trained neural controllers (ONNX + JSON card) and the JAX code that trains them."""
