"""Small test files shared by several test modules (kept in one place)."""

TINY_NNET = """// tiny test network
2,2,1,3,
2,3,1,
0,
-1.0,0.0,
1.0,10.0,
0.5,4.0,2.0,
2.0,8.0,3.0,
1.0,-2.0,
0.5,1.0,
-1.0,0.25,
0.1,
0.2,
-0.3,
1.0,-1.0,2.0,
0.5,
"""
