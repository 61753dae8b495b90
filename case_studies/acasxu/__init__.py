"""The ACAS Xu case study: 45 networks, properties phi1-phi10, the 186 VNN-COMP instances and their ground truth.

`run.py` verifies a selection of instances and compares every answer with ground_truth.csv.
"""
