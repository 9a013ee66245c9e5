"""``python -m mixlogit``: the command line (see :mod:`mixlogit.cli`)."""
from .cli import main

raise SystemExit(main())
