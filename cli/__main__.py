"""Run koe as ``python -m cli`` (the installed ``koe`` script does the same)."""

from cli.app import main

main()
