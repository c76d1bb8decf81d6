"""PyInstaller entry point: the same command line as the ``studio-status`` script."""

from studio_status.cli import main

raise SystemExit(main())
