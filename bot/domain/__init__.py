"""The newsletter's own terms: issue types, the pure parser, link rules.

A leaf: it imports nothing else of `bot`, so `publishers/` and `data/` use it
without reaching into the application (tests/test_layers.py holds this).
"""
