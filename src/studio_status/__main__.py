from studio_status.cli import main

raise SystemExit(main())
