from tursotui.cli import main

raise SystemExit(main())
