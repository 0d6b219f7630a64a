"""Check modules, one per claim family.  Importing this package registers them all."""

from __future__ import annotations

import importlib

_MODULES = [
    "conservation",
    "figures",
    "flow",
    "paper",
    "reviews",
    "search",
    "ssm",
    "stepsize",
    "symbolic",
]

for _m in _MODULES:
    importlib.import_module(f"{__name__}.{_m}")
