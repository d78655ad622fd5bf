"""nox sessions as tasks.

* nox (`noxfile.py`), read with `ast` only and never imported: functions decorated with `@nox.session`,
  `@nox.session(python=[...], name=..., tags=..., requires=...)` or a `session` imported from nox (or
  nox_poetry); the docstring's first paragraph is the description; each `session.run(...)` /
  `session.install(...)` call becomes a command with its literal arguments (anything else is shown as
  `<expression>`); `session.notify("x")` lists `x` as a hook. Invocation `nox -s <name>`.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

from ..limits import note_exhausted
from ..models import Command, Task
from ..repo import FileText
from ._python_common import (
    quote_arg,
)
from .base import DetectContext, Wants, detector

# ==================================================================== nox


NOXFILES = Wants(names=frozenset({"noxfile.py"}))


_NOX_MODULES = ("nox", "nox_poetry", "nox_uv")
_SESSION_CALLS = {"run": "", "run_always": "", "run_install": "", "install": "pip install ",
                  "conda_install": "conda install "}


@detector("nox", wants=NOXFILES)
def detect_noxfile(ctx: DetectContext, file: FileText) -> None:
    path = file.path
    try:
        tree = ast.parse(file.text, filename=path)
    except SyntaxError as exc:
        ctx.diagnostic(path, f"not valid Python: {exc.msg}", line=exc.lineno)
        return
    except (ValueError, RecursionError, MemoryError) as exc:
        if not isinstance(exc, ValueError):
            note_exhausted()  # how deep the caller's stack was, or the memory left, decided it (`limits`)
        ctx.diagnostic(path, f"not readable as Python: {type(exc).__name__}")
        return
    modules, session_names = _nox_imports(tree)
    constants = _module_constants(tree)
    defaults = _default_sessions(tree, modules, constants)
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        decorator = next((d for d in node.decorator_list if _is_session_decorator(d, modules, session_names)), None)
        if decorator is None:
            continue
        ctx.add_task(_nox_task(ctx, path, node, decorator, constants, modules, defaults))


def _nox_imports(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to the nox module (`import nox as n`) and to its `session` decorator."""
    modules: set[str] = set()
    sessions: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _NOX_MODULES:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module in _NOX_MODULES:
            for alias in node.names:
                if alias.name == "session":
                    sessions.add(alias.asname or alias.name)
    return modules, sessions


def _is_session_decorator(node: ast.expr, modules: set[str], sessions: set[str]) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Name):
        return target.id in sessions
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "session"
        and isinstance(target.value, ast.Name)
        and target.value.id in modules
    )


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    """Module-level `NAME = <literal>` assignments (so `python=PYTHONS` can be shown as its value)."""
    constants: dict[str, Any] = {}
    for node in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and value is not None:
                try:
                    constants[target.id] = ast.literal_eval(value)
                except (ValueError, TypeError, SyntaxError):
                    constants.pop(target.id, None)
                except (MemoryError, RecursionError):
                    note_exhausted()
                    constants.pop(target.id, None)
    return constants


def _default_sessions(tree: ast.Module, modules: set[str], constants: dict[str, Any]) -> list[str] | None:
    """`nox.options.sessions = [...]`: the sessions plain `nox` runs."""
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "sessions"
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "options"
                and isinstance(target.value.value, ast.Name)
                and target.value.value.id in modules
            ):
                value = _literal(node.value, constants)
                if isinstance(value, list | tuple):
                    return [str(v) for v in value]
    return None


def _literal(node: ast.expr, constants: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        return None
    except (MemoryError, RecursionError):
        note_exhausted()
        return None


def _shown(node: ast.expr, constants: dict[str, Any]) -> str:
    """A keyword value as text: its literal value (lists joined), or `<expression>`."""
    value = _literal(node, constants)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if value is not None:
        return str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(node, ast.Constant):  # `python=None`
        return "none"
    return f"<{_unparse(node)}>"


def _unparse(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except ValueError:
        return "expression"
    except RecursionError:
        note_exhausted()
        return "expression"
    return text if len(text) <= 80 else text[:77] + "..."


def _nox_task(
    ctx: DetectContext,
    path: str,
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    decorator: ast.expr,
    constants: dict[str, Any],
    modules: set[str],
    defaults: list[str] | None,
) -> Task:
    name = node.name
    attributes: dict[str, str] = {}
    depends: list[str] = []
    if isinstance(decorator, ast.Call):
        for keyword in decorator.keywords:
            if keyword.arg == "name":
                name = str(_literal(keyword.value, constants) or name)
            elif keyword.arg in ("python", "py"):
                attributes["python"] = _shown(keyword.value, constants)
            elif keyword.arg == "requires":
                value = _literal(keyword.value, constants)
                depends = [str(v) for v in value] if isinstance(value, list | tuple) else []
            elif keyword.arg in ("tags", "venv_backend", "reuse_venv", "default"):
                attributes[keyword.arg] = _shown(keyword.value, constants)
    parametrize = _parametrize(node, modules, constants)
    if parametrize:
        attributes["parametrize"] = parametrize
    if defaults is not None:
        attributes["default"] = "true" if name in defaults else "false"
    commands, hooks = _session_calls(ctx, path, node)
    docstring = ast.get_docstring(node)
    description = inspect.cleandoc(docstring).split("\n\n", 1)[0].replace("\n", " ").strip() if docstring else None
    first_line = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    return ctx.task(
        "nox", path, name,
        invocation=f"nox -s {name}",
        description=description,
        depends_on=depends,
        commands=commands,
        hooks=hooks,
        attributes=attributes,
        evidence=ctx.evidence(path, first_line, node.end_lineno or node.lineno),
    )


def _parametrize(node: ast.FunctionDef | ast.AsyncFunctionDef, modules: set[str], constants: dict[str, Any]) -> str:
    found: list[str] = []
    for decorator in node.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "parametrize"
            and isinstance(decorator.func.value, ast.Name)
            and decorator.func.value.id in modules
            and len(decorator.args) >= 2
        ):
            found.append(f"{_shown(decorator.args[0], constants)}: {_shown(decorator.args[1], constants)}")
    return "; ".join(found)


def _session_calls(
    ctx: DetectContext, path: str, node: ast.FunctionDef | ast.AsyncFunctionDef
) -> tuple[list[Command], list[str]]:
    """`session.run/install/...` calls on the session parameter, in source order, and `session.notify` targets."""
    params = node.args.posonlyargs + node.args.args
    if not params:
        return [], []
    session = params[0].arg
    calls: list[ast.Call] = []
    for child in ast.walk(node):
        if (
            isinstance(child, ast.Call)
            and isinstance(child.func, ast.Attribute)
            and isinstance(child.func.value, ast.Name)
            and child.func.value.id == session
        ):
            calls.append(child)
    calls.sort(key=lambda c: (c.lineno, c.col_offset))
    commands: list[Command] = []
    hooks: list[str] = []
    for call in calls:
        method = call.func.attr  # type: ignore[attr-defined]
        if method == "notify":
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                hooks.append(call.args[0].value)
            continue
        if method not in _SESSION_CALLS:
            continue
        words = [_argument(a) for a in call.args]
        if not words:
            continue
        text = _SESSION_CALLS[method] + " ".join(words)
        commands.append(ctx.command(text, path, call.lineno, call.end_lineno or call.lineno))
    return commands, hooks


def _argument(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return quote_arg(node.value)
    if isinstance(node, ast.Starred):
        return f"<*{_unparse(node.value)}>"
    return f"<{_unparse(node)}>"

