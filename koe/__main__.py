"""Run koe as ``python -m koe``."""

from koe.cli import main

main()
