"""``python -m medtools.efficiency``: see :func:`medtools.efficiency.cli.main`."""

from medtools.efficiency.cli import main

raise SystemExit(main())
