"""``python -m mlpdesigner``."""

from .cli import main

raise SystemExit(main())
