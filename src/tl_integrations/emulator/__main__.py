"""``python -m tl_integrations.emulator``."""

from __future__ import annotations

from ._cli import main

raise SystemExit(main())
