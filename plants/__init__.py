"""The plant library: one module per plant, each returning a symbolic model with its parameters.

Models land with the dynamics layer (symbolic plants, flowpipes); see plants/README.md.
"""
