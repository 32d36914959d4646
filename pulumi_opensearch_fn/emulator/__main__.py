"""``python -m pulumi_opensearch_fn.emulator``: the same as ``opensearch-fn emulator``."""

from __future__ import annotations

import argparse
import sys

from .main import add_arguments, run


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pulumi_opensearch_fn.emulator",
        description="Serve a local OpenSearch function API emulator.",
    )
    add_arguments(parser)
    return run(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
