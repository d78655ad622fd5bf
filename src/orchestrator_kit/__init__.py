"""orchestrator-kit: map how a repository is built, tested, released and operated, with evidence.

The public surface: `scan` (and the models it returns), `Workspace` (the one door to a repository),
and the errors a caller may catch.
"""

from .errors import ConfinementError as ConfinementError
from .errors import InputError as InputError
from .errors import OrchestratorError as OrchestratorError
from .errors import ReadError as ReadError
from .models import Diagnostic as Diagnostic
from .models import Evidence as Evidence
from .models import Inventory as Inventory
from .repo import Workspace as Workspace
from .service import scan as scan

__version__ = "0.1.0"
