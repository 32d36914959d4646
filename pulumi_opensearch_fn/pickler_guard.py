"""Puts back what `pulumi.dynamic` changes in `pickle` each time it pickles a provider.

`pulumi.dynamic.serialize_provider` wraps `pickle._Pickler._batch_setitems` (to sort
dictionaries) and never unwraps it: each dynamic resource constructed in a process adds
one more call to every later pickling, and after about a thousand (one program with
1,000 models, or 1,000 Automation API inline programs of one each) constructing one
raises RecursionError. Pulumi wraps whatever it finds, so putting the original back
after each construction keeps its sorting and drops the growth.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from contextlib import contextmanager

_CHANGED = ("_batch_setitems", "save_dict")


@contextmanager
def pickle_restored() -> Iterator[None]:
    """Restores the pure-Python pickler's methods that provider pickling replaces."""
    pickler: type = pickle._Pickler
    found = {name: pickler.__dict__[name] for name in _CHANGED if name in pickler.__dict__}
    try:
        yield
    finally:
        for name, method in found.items():
            setattr(pickler, name, method)
