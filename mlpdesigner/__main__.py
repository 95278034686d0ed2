"""``python -m mlpdesigner``."""

from .cli import main

raise SystemExit(main(exit_fast=True))
