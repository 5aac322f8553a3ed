"""``python -m medtools.benchmark``: see :func:`medtools.benchmark.cli.main`."""

from medtools.benchmark.cli import main

raise SystemExit(main())
