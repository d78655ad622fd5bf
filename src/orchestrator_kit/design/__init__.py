"""Workflow design toolkit: a checkable model of state machines and sagas (`WorkflowDesign`), named validation
rules, deterministic fault simulation, Mermaid diagrams, ASL / XState export and ASL import.

The service functions are the public surface; the CLI (`orchestrator-kit design ...`) and the MCP tools call them.
"""

from .asl import AslExport as AslExport
from .load import DesignInputError as DesignInputError
from .load import LoadedDesign as LoadedDesign
from .load import LoadProblem as LoadProblem
from .load import load_design as load_design
from .load import load_design_file as load_design_file
from .model import WorkflowDesign as WorkflowDesign
from .render import Diagram as Diagram
from .service import DesignExample as DesignExample
from .service import DesignSchema as DesignSchema
from .service import RuleInfo as RuleInfo
from .service import ValidationReport as ValidationReport
from .service import export_workflow_asl as export_workflow_asl
from .service import export_workflow_ci as export_workflow_ci
from .service import export_workflow_xstate as export_workflow_xstate
from .service import get_design_example as get_design_example
from .service import import_workflow_asl as import_workflow_asl
from .service import list_design_examples as list_design_examples
from .service import list_design_rules as list_design_rules
from .service import render_workflow_diagram as render_workflow_diagram
from .service import simulate_workflow_failures as simulate_workflow_failures
from .service import validate_workflow_design as validate_workflow_design
from .service import workflow_design_schema as workflow_design_schema
from .simulate import Scenario as Scenario
from .simulate import SimulationReport as SimulationReport
from .validate import Finding as Finding
from .xstate import XStateExport as XStateExport
