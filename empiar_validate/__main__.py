"""Allow ``python -m empiar_validate``."""

from empiar_validate.cli import main

raise SystemExit(main())
