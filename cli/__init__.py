"""The ``koe`` command line: the composition root, on the top floor of the import graph.

It may import every package below it (settings, stages, models, flows, the API); nothing imports it.
Commands import what they need inside their bodies, so ``koe --help`` stays fast.
"""
