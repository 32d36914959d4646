"""``python -m pulumi_opensearch_fn.emulator``: the same as ``opensearch-fn emulator``."""

import sys

from ..cli import main

sys.exit(main(["emulator", *sys.argv[1:]]))
