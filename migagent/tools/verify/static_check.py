"""A static check of model-written revision source, before any of it runs.

A revision needs Alembic's `op`, SQLAlchemy and a few pure standard modules;
it never needs the file system, processes, the network, new database
connections or Python's introspection. So before a revision a model wrote is
imported, its syntax tree is checked: imports only from `ALLOWED_MODULES`, no
dangerous builtins (`exec`, `eval`, `open`, `__import__`, `getattr`, ...), no
attribute whose name starts with `_` (`x.__class__`, `__subclasses__`,
`__globals__`, `__builtins__`) or reaches frames, code objects or the
database driver, and no call that opens a connection (`create_engine`,
`engine_from_config`, `.connect()`).

This is a deny-by-default filter, not a sandbox: it makes the ordinary escape
routes fail loudly, naming the line. The child process and the fenced role
(`migagent.tools.verify.fenced`, `migagent.tools.fence`) bound what an escape
that slips through could still reach.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import sys
from dataclasses import dataclass

#: Modules a revision may import (and their submodules, unless listed in DENIED_MODULES).
#: Pure modules only: nothing here reads files, starts processes or opens sockets.
ALLOWED_MODULES: tuple[str, ...] = (
    "__future__",
    "alembic",
    "alembic_utils",
    "sqlalchemy",
    "typing",
    "typing_extensions",
    "datetime",
    "decimal",
    "uuid",
    "enum",
    "json",
    "re",
    "math",
    "collections",
    "textwrap",
    "itertools",
    "functools",
    "dataclasses",
    "fractions",
    "numbers",
    "hashlib",
    "base64",
    "binascii",
    "zoneinfo",
    "calendar",
    "time",
    "random",
    "secrets",
    "ipaddress",
    "copy",
    "abc",
    "warnings",
)
#: Submodules of allowed packages that run programs or project files, unpickle, or
#: reach the engine, the pool or the driver.
DENIED_MODULES: tuple[str, ...] = (
    "alembic.command",
    "alembic.config",
    "alembic.script",
    "alembic.util",
    "alembic.testing",
    "alembic.runtime",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "sqlalchemy.event",
    "sqlalchemy.util",
    "sqlalchemy.testing",
    "sqlalchemy.connectors",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.ext.serializer",
    "sqlalchemy.dialects.postgresql.psycopg",
    "sqlalchemy.dialects.postgresql.psycopg2",
    "sqlalchemy.dialects.postgresql.psycopg2cffi",
    "sqlalchemy.dialects.postgresql.asyncpg",
    "sqlalchemy.dialects.postgresql.pg8000",
)
#: Builtins that execute code, open files, reach attributes by name or read
#: namespaces; and the functions that open new database connections.
DENIED_NAMES: frozenset[str] = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "open",
        "__import__",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "help",
        "exit",
        "quit",
        "__builtins__",
        "__loader__",
        "__spec__",
        "create_engine",
        "create_async_engine",
        "engine_from_config",
        "create_mock_engine",
        "create_pool_from_url",
    }
)
#: Attributes that reach frames or code, the driver, the engine (new connections),
#: the Alembic machinery that runs project files, or code-evaluating helpers
#: (typing's forward references, the ORM's string relationship arguments, pickle).
DENIED_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_back",
        "f_builtins",
        "f_code",
        "tb_frame",
        "tb_next",
        "func_globals",
        "dbapi",
        "loaded_dbapi",
        "import_dbapi",
        "psycopg",
        "psycopg2",
        "asyncpg",
        "pg8000",
        "pool",
        "creator",
        "raw_connection",
        "driver_connection",
        "dbapi_connection",
        "connection",
        "engine",
        "popen",
        "serializer",
        "PickleType",
        "pickle",
        "get_type_hints",
        "ForwardRef",
        "evaluate_forward_ref",
        "relationship",
        "backref",
        "dynamic_loader",
        "format_map",
        "exec",
        "eval",
        "open",
        "getattr",
        "setattr",
        "delattr",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "create_engine",
        "create_async_engine",
        "engine_from_config",
        "create_mock_engine",
        "create_pool_from_url",
    }
)
#: Attribute names that are modules no revision needs: `uuid.os`, `typing.sys`,
#: `typing.types`, `json.codecs` reach them through an allowed module. Allowed
#: only where the import chain names a real allowed submodule (`sa.types`).
MODULE_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "os",
        "sys",
        "subprocess",
        "builtins",
        "importlib",
        "ctypes",
        "shutil",
        "socket",
        "pathlib",
        "io",
        "tempfile",
        "inspect",
        "gc",
        "threading",
        "multiprocessing",
        "pickle",
        "marshal",
        "codecs",
        "runpy",
        "pkgutil",
        "site",
        "posix",
        "nt",
        "types",
        "weakref",
        "traceback",
        "linecache",
        "asyncio",
        "concurrent",
        "urllib",
        "http",
        "logging",
        "sqlite3",
        "zipimport",
        "glob",
        "pty",
        "fcntl",
        "mmap",
        "selectors",
        "ssl",
        "shlex",
        "sysconfig",
        "bltns",
        "posixpath",
        "ntpath",
        "genericpath",
        "langhelpers",
        "compat",
        "preloaded",
        "plugins",
        "entry_points",
        "distribution",
        "distributions",
    }
)
#: Attributes that hold a module when reached through an import chain (`context.config`,
#: `sa.orm.session.util`, `uuid.platform`) but are ordinary names on values
#: (`row.config`, `row.url`): refused on an import chain unless it names a real
#: allowed submodule.
CHAINED_MODULE_ATTRIBUTES: frozenset[str] = frozenset(
    {
        "command",
        "config",
        "script",
        "util",
        "testing",
        "runtime",
        "url",
        "modules",
        "system",
        "code",
        "codeop",
        "platform",
        "resource",
        "signal",
        "exc",
    }
)
#: Dunder names a revision may use: `__name__`, and the declarative ORM's table options.
ALLOWED_DUNDERS: frozenset[str] = frozenset(
    {"__name__", "__tablename__", "__table_args__", "__abstract__"}
)
#: Names that are fine as attributes but not as bare names, and vice versa, are the two
#: sets above; these are refused both ways.
DENIED_EITHER: frozenset[str] = frozenset(
    {"PickleType", "get_type_hints", "ForwardRef", "relationship", "backref", "dynamic_loader"}
)
_FORMAT_FIELD = re.compile(r"\{([^{}!:]*)")  # "{0.engine.url!r:>10}" -> "0.engine.url"
_FIELD_PART = re.compile(r"[.\[]\s*([^.\[\]]*)")  # the attribute and index parts of a field


def _format_reach(text: str) -> str | None:
    """The first attribute a `str.format` field in `text` would reach that a revision may
    not (`"{0.gi_frame.f_back}"` walks attributes at run time, past this check)."""
    for field in _FORMAT_FIELD.findall(text):
        for part in _FIELD_PART.findall(field):
            part = part.strip().strip("'\"")
            if (
                part.startswith("_")
                or part in DENIED_ATTRIBUTES
                or part in MODULE_ATTRIBUTES
                or part in CHAINED_MODULE_ATTRIBUTES
                or "connect" in part.lower()
            ):
                return part
    return None


@dataclass(frozen=True)
class Violation:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def allowed_summary() -> str:
    return ", ".join(m for m in ALLOWED_MODULES if m != "__future__")


def module_allowed(name: str) -> bool:
    if any(name == d or name.startswith(d + ".") for d in DENIED_MODULES):
        return False
    return any(name == a or name.startswith(a + ".") for a in ALLOWED_MODULES)


def check_source(source: str, *, filename: str = "revision.py") -> list[Violation]:
    """Every construct in `source` a revision may not use, in line order (empty: fine).

    A syntax error is left to the loader, which reports it with its location.
    """
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError:
        return []
    checker = _Checker()
    checker.visit(tree)
    return sorted(checker.violations, key=lambda v: v.line)


@functools.lru_cache(maxsize=4096)
def _is_submodule(path: str) -> bool:
    """Whether `path` names a real module (`sqlalchemy.types`), not an attribute that
    happens to hold one (`typing.types`) or anything else (`sqlalchemy.Column`).

    Finding a spec imports the parents: only allowed ones (pure, and the revision
    imports them anyway) or ones already imported are, never a denied package's
    `__init__` on a revision's say.
    """
    parent = path.rpartition(".")[0]
    if not parent or (parent not in sys.modules and not module_allowed(parent)):
        return False
    try:
        return importlib.util.find_spec(path) is not None
    except (ImportError, ValueError, AttributeError):
        return False


def _is_allowed_submodule(path: str) -> bool:
    return module_allowed(path) and _is_submodule(path)


class _Checker(ast.NodeVisitor):
    def __init__(self) -> None:
        self.violations: list[Violation] = []
        self.modules: dict[str, str] = {}  # local name -> what it was imported as
        self.module_names: set[str] = set()  # local names bound to modules

    def _dotted(self, node: ast.AST) -> str | None:
        """The module path an expression names, when it is an imported module's attribute."""
        if isinstance(node, ast.Name):
            return self.modules.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def _flag(self, node: ast.AST, message: str) -> None:
        self.violations.append(Violation(getattr(node, "lineno", 0), message))

    def _import(self, node: ast.AST, name: str) -> None:
        if not module_allowed(name):
            self._flag(
                node,
                f"import {name} is not allowed in a revision (allowed: {allowed_summary()})",
            )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._import(node, alias.name)
            if alias.asname:
                self.modules[alias.asname] = alias.name
                self.module_names.add(alias.asname)
            else:
                top = alias.name.split(".", 1)[0]
                self.modules[top] = top
                self.module_names.add(top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self._flag(node, "relative imports are not allowed in a revision")
            return
        module = node.module or ""
        self._import(node, module)
        for alias in node.names:
            self.modules[alias.asname or alias.name] = f"{module}.{alias.name}"
            if _is_submodule(f"{module}.{alias.name}"):
                self.module_names.add(alias.asname or alias.name)
            if alias.name == "*":
                self._flag(node, f"from {module} import * is not allowed in a revision")
            elif module_allowed(module) and not module_allowed(f"{module}.{alias.name}"):
                self._import(node, f"{module}.{alias.name}")
            elif (
                alias.name in DENIED_NAMES
                or alias.name in DENIED_ATTRIBUTES
                or alias.name.startswith("_")
            ):
                self._flag(node, f"importing {alias.name} is not allowed in a revision")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        self._name(node)
        if node.id in self.module_names:
            # `x = sa`, `f(alembic)`: a module passed around escapes the attribute checks
            self._flag(
                node, f"the module {node.id} may only be used as {node.id}.name in a revision"
            )

    def _name(self, node: ast.Name) -> None:
        dunder = (
            node.id.startswith("__") and node.id.endswith("__") and node.id not in ALLOWED_DUNDERS
        )
        if dunder or node.id in DENIED_NAMES or node.id in DENIED_EITHER:
            self._flag(node, f"{node.id} is not allowed in a revision")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        path = self._dotted(node)  # a.b.c when `a` is an imported name, else None
        if attr.startswith("_"):
            self._flag(node, f"the attribute .{attr} is not allowed in a revision (no _names)")
        elif attr in DENIED_ATTRIBUTES or "connect" in attr.lower():
            self._flag(node, f"the attribute .{attr} is not allowed in a revision")
        elif path is not None and _is_submodule(path) and not module_allowed(path):
            self._flag(node, f"{path} is not allowed in a revision (allowed: {allowed_summary()})")
        elif attr in MODULE_ATTRIBUTES and not (path and _is_allowed_submodule(path)):
            self._flag(node, f"the attribute .{attr} (a module) is not allowed in a revision")
        elif (
            attr in CHAINED_MODULE_ATTRIBUTES
            and path is not None
            and not _is_allowed_submodule(path)
        ):
            self._flag(node, f"{path} is not allowed in a revision")
        if isinstance(node.value, ast.Name):
            self._name(node.value)  # a module as an attribute's base is what modules are for
        else:
            self.visit(node.value)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and "{" in node.value:
            reached = _format_reach(node.value)
            if reached is not None:
                self._flag(
                    node, f"a format field that reaches .{reached} is not allowed in a revision"
                )

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "format"
            and not (isinstance(func.value, ast.Constant) and isinstance(func.value.value, str))
        ):
            # a computed format string could walk any attribute: only literals are checked
            self._flag(
                node,
                "str.format on a computed string is not allowed in a revision"
                " (use an f-string or a literal format string)",
            )
        self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> None:
        self._flag(node, "global statements are not allowed in a revision")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self._flag(node, "nonlocal statements are not allowed in a revision")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._dunder_def(node, node.name)
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._flag(node, "async functions are not allowed in a revision")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._dunder_def(node, node.name)
        for kw in node.keywords:
            if kw.arg == "metaclass":
                self._flag(node, "metaclasses are not allowed in a revision")
        self.generic_visit(node)

    def _dunder_def(self, node: ast.AST, name: str) -> None:
        if name.startswith("__") and name.endswith("__") and name != "__init__":
            self._flag(node, f"defining {name} is not allowed in a revision")
