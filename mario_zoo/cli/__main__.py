"""``python -m mario_zoo.cli``: the same as the ``mario-zoo`` console script."""

import sys

from mario_zoo.cli import main

if __name__ == "__main__":
    sys.exit(main())
