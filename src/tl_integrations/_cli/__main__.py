"""``python -m tl_integrations._cli``: the same as the ``tl-integrations`` command."""

from __future__ import annotations

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
