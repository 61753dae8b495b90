"""Allow `python -m nncs` as a synonym of the `nncs` command."""

import sys

from nncs.cli import main

sys.exit(main())
