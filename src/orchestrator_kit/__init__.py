"""orchestrator-kit: map how a repository is built, tested, released and operated, with evidence.

The public surface: `scan` (and the models it returns), `Workspace` (the one door to a repository),
and the errors a caller may catch. The errors load eagerly (they are cheap); the rest loads on first use
(PEP 562 module `__getattr__`), so `orchestrator-kit --version` and `--help` do not import pydantic models,
git plumbing or detectors they never run.
"""

from __future__ import annotations

import importlib

from .errors import ConfinementError as ConfinementError
from .errors import InputError as InputError
from .errors import OrchestratorError as OrchestratorError
from .errors import ReadError as ReadError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms at start-up)
if TYPE_CHECKING:
    from typing import Any

    from .models import Diagnostic as Diagnostic
    from .models import Evidence as Evidence
    from .models import Inventory as Inventory
    from .repo import Workspace as Workspace
    from .service import scan as scan

__version__ = "0.1.0"

# public name -> module that defines it, loaded on first attribute access
_LAZY = {
    "Diagnostic": ".models",
    "Evidence": ".models",
    "Inventory": ".models",
    "Workspace": ".repo",
    "scan": ".service",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
