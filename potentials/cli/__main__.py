"""``python -m potentials.cli``: the ``potentials`` command."""

import sys

from potentials.cli import main

sys.exit(main())
