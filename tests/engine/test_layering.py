"""Imports point down the pipeline (issue 11, "stages that hold").

An ast check over ``engine/rustmemodb``: the core packages may import only the
packages below them, and do not hide an import inside a function to dodge a cycle.

    storage  -> errors, types
    plan     -> errors, types, storage
    txn      -> errors, types, storage
    optimize -> errors, types, plan, storage
    sql      -> errors, types, plan, storage
    exec     -> errors, types, plan, storage, catalog, result

(``errors`` and ``types`` are the foundation every layer uses; ``catalog`` holds
the virtual ``pg_catalog`` tables the executor scans, ``result`` the Result type
the row fast path builds.) Packages outside the core (api, server, cli, persist,
durability, branch, session, database, ...) sit on top and may import the core.

Both module-level and function-level imports count as edges. Two lists record the
debt this check was introduced with; each entry names its reason. They may only
shrink: an entry that no longer occurs fails the test too, so that fixing an
import also removes it here. A new upward import, or a new function-level import
of a rustmemodb module inside a core package, fails. An import that exists only for
type checking (under ``if TYPE_CHECKING:``) is not an edge.
"""
from __future__ import annotations

import ast
import collections
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "engine"

# Leaf modules every layer may use: errors, types, and (from other branches of issue 11
# and the wire work) ``deep`` (recursion off the caller's stack), ``notices`` (NOTICE
# messages of the running statement), ``lazy_import`` (pyarrow.compute imported on
# first use, for start-up; it imports nothing of rustmemodb) and ``statement_limits``
# (interrupt, statement_timeout, memory cap: checked by every stage, it imports only
# errors). ``netaddr``, ``money``, ``bitstring``, ``ranges`` and ``infinity`` (the network
# address, money, bit string and range types' values, codecs and text, and the ±infinity
# of dates and timestamps: part of types) and ``textsearch`` (tsvector/tsquery values and
# their functions, a leaf package over errors that ``types`` reads text-search literals
# with) and ``timetz`` (time with time zone's ordered keys and text) and ``composite``
# (composite types' strings, ordered bytes and record text) too.
FOUNDATION = {"errors", "types", "deep", "notices", "lazy_import", "statement_limits",
              "netaddr", "money", "bitstring", "ranges", "textsearch", "infinity", "timetz",
              "composite", "numeric", "numeric_arrays"}
ALLOWED = {
    "storage": FOUNDATION,
    "plan": FOUNDATION | {"storage"},
    "txn": FOUNDATION | {"storage"},
    "optimize": FOUNDATION | {"plan", "storage"},
    "sql": FOUNDATION | {"plan", "storage"},
    "exec": FOUNDATION | {"plan", "storage", "catalog", "result"},
}

# Reasons, shared by the entries below.
REGISTRY = "the function registry (signatures and kernels) lives in exec/functions"
FOLD = "constant folding at bind time evaluates through optimize/fold_constants"
CATALOG = "virtual catalog tables are bound/scanned across sql and catalog"
EVAL = "values are evaluated at bind time with exec's expression kernels"

# (importing module, imported module) -> reason: upward edges present when this
# check was added. Shrink it; never grow it.
KNOWN_UPWARD = {
    ("rustmemodb.optimize.fold_constants", "rustmemodb.exec.functions.cast"): EVAL,
    ("rustmemodb.optimize.use_index", "rustmemodb.exec.expr.row"): EVAL,
    ("rustmemodb.plan.explain", "rustmemodb.optimize.estimate"):
        "EXPLAIN shows the optimizer's row estimates",
    ("rustmemodb.plan.expr", "rustmemodb.exec.functions.registry"): REGISTRY,
    ("rustmemodb.sql.bind.bind_array", "rustmemodb.exec.functions.array"): REGISTRY,
    ("rustmemodb.sql.bind.bind_array", "rustmemodb.optimize.fold_constants"): FOLD,
    ("rustmemodb.sql.bind.bind_expr", "rustmemodb.exec.expr.row"): EVAL,
    ("rustmemodb.sql.bind.bind_expr", "rustmemodb.exec.functions.cast"): EVAL,
    ("rustmemodb.sql.bind.bind_expr", "rustmemodb.optimize.fold_constants"): FOLD,
    ("rustmemodb.sql.bind.bind_files", "rustmemodb.exec.files"):
        "file paths and schemas are inferred at bind time by exec/files.py",
    ("rustmemodb.sql.bind.bind_from", "rustmemodb.catalog"): CATALOG,
    ("rustmemodb.sql.bind.bind_functions", "rustmemodb.exec.functions.datetime"): EVAL,
    ("rustmemodb.sql.bind.bind_functions", "rustmemodb.optimize.fold_constants"): FOLD,
    ("rustmemodb.sql.bind.bind_lateral", "rustmemodb.exec.functions.series"): REGISTRY,
    ("rustmemodb.sql.bind.bind_session_functions", "rustmemodb.catalog.pg_catalog"): CATALOG,
    ("rustmemodb.sql.bind.bind_session_functions", "rustmemodb.utility"):
        "session functions read settings kept by utility statements",
    ("rustmemodb.sql.bind.check_clauses", "rustmemodb.catalog.virtual"): CATALOG,
    ("rustmemodb.sql.bind.coerce", "rustmemodb.exec.functions.array"): REGISTRY,
    ("rustmemodb.sql.bind.enum_order", "rustmemodb.optimize.fold_constants"): FOLD,
    ("rustmemodb.sql.complete", "rustmemodb.catalog.virtual"): CATALOG,
}

# Function-level imports of rustmemodb modules in the core packages when this check
# was added, per core package (most hide a cycle between binder modules, or between
# operators and the executor's dispatch). The count may only fall: lower it with
# the fix. exec +1 (issue 11, start-up): fast_select imports the index scan (numpy, pyarrow,
# storage) on the first index lookup it compiles, not when ``SELECT 1`` loads it.
# exec -2: map_rows moved below vector.py and the function modules (exec/expr/rowwise.py).
FUNCTION_LEVEL_BUDGET = {"sql": 21, "exec": 21, "storage": 4, "optimize": 1, "plan": 1,
                         "txn": 0}


# ---- the checker ---------------------------------------------------------------------------

Edge = collections.namedtuple("Edge", "importer imported function_level path line")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(root: Path, dotted: str) -> bool:
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _type_checking_only(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _in_function(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


def edges(root: Path, package: str = "rustmemodb") -> list[Edge]:
    """Every import of a ``package`` module by a module under ``root/package``."""
    out = []
    for path in sorted((root / package).rglob("*.py")):
        module = _module_name(path, root)
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(), str(path))
        parents = {c: n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = module.split(".") if is_pkg else module.split(".")[:-1]
                    base = base[:len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                # ``from . import errors`` imports the module rustmemodb.errors
                targets = [f"{source}.{a.name}" if _is_module(root, f"{source}.{a.name}")
                           else source for a in node.names]
            else:
                continue
            if _type_checking_only(node, parents):
                continue
            fn = _in_function(node, parents)
            for target in dict.fromkeys(targets):
                if target.split(".")[0] == package:
                    out.append(Edge(module, target, fn, path, node.lineno))
    return out


def unit(module: str) -> str:
    """The top-level package or module of ``rustmemodb.x.y`` (``x``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward(all_edges: list[Edge]) -> list[Edge]:
    """Edges from a core package to a unit it may not import."""
    out = []
    for e in all_edges:
        src, dst = unit(e.importer), unit(e.imported)
        if src in ALLOWED and dst != src and dst not in ALLOWED[src]:
            out.append(e)
    return out


def function_level(all_edges: list[Edge]) -> collections.Counter:
    return collections.Counter(unit(e.importer) for e in all_edges
                               if e.function_level and unit(e.importer) in ALLOWED)


# ---- the checks on the engine ------------------------------------------------------------------

@pytest.fixture(scope="module")
def engine_edges() -> list[Edge]:
    return edges(ENGINE)


def test_imports_point_down_the_pipeline(engine_edges):
    found = upward(engine_edges)
    new = sorted({(e.importer, e.imported): e for e in found
                  if (e.importer, e.imported) not in KNOWN_UPWARD}.values())
    assert not new, "imports against the pipeline's direction:\n" + "\n".join(
        f"  {e.path.relative_to(ENGINE)}:{e.line}: {e.importer} -> {e.imported}" for e in new)
    gone = sorted(set(KNOWN_UPWARD) - {(e.importer, e.imported) for e in found})
    assert not gone, "fixed, so remove from KNOWN_UPWARD:\n" + "\n".join(
        f"  {a} -> {b}" for a, b in gone)


def test_no_new_function_level_imports_in_the_core(engine_edges):
    counts = function_level(engine_edges)
    over = {p: (counts[p], FUNCTION_LEVEL_BUDGET[p]) for p in ALLOWED
            if counts[p] > FUNCTION_LEVEL_BUDGET[p]}
    assert not over, (
        "function-level imports of rustmemodb modules (found, allowed) per package: "
        f"{over}; import at module level, or move the shared piece down a layer")
    under = {p: (counts[p], FUNCTION_LEVEL_BUDGET[p]) for p in ALLOWED
             if counts[p] < FUNCTION_LEVEL_BUDGET[p]}
    assert not under, f"fewer function-level imports now: lower FUNCTION_LEVEL_BUDGET {under}"


# ---- the checker catches what it should (a synthetic tree) ------------------------------------

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"rustmemodb/__init__.py": "", "rustmemodb/errors.py": "",
                       "rustmemodb/types.py": "", "rustmemodb/storage/__init__.py": "",
                       "rustmemodb/exec/__init__.py": "", "rustmemodb/exec/limits.py": "",
                       "rustmemodb/sql/__init__.py": "", "rustmemodb/plan/__init__.py": "",
                       **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_checker_flags_an_upward_import(tmp_path):
    root = _tree(tmp_path, {"rustmemodb/storage/bad.py":
                            "from .. import errors\nfrom ..exec import limits\n"})
    found = upward(edges(root))
    assert [(e.importer, e.imported, e.function_level) for e in found] == [
        ("rustmemodb.storage.bad", "rustmemodb.exec.limits", False)]


def test_checker_flags_a_function_level_import_and_ignores_type_checking(tmp_path):
    root = _tree(tmp_path, {
        "rustmemodb/sql/hidden.py":
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from ..exec import limits\n"
            "def f():\n    from ..plan import logical\n    import rustmemodb.exec.limits\n",
        "rustmemodb/plan/logical.py": ""})
    all_edges = edges(root)
    assert [(e.imported, e.function_level) for e in all_edges] == [
        ("rustmemodb.plan.logical", True), ("rustmemodb.exec.limits", True)]
    assert [e.imported for e in upward(all_edges)] == ["rustmemodb.exec.limits"]
    assert function_level(all_edges) == {"sql": 2}


def test_checker_allows_downward_imports(tmp_path):
    root = _tree(tmp_path, {"rustmemodb/exec/ok.py": "from ..plan import logical\n"
                                                     "from ..storage import table\n",
                            "rustmemodb/plan/logical.py": "",
                            "rustmemodb/storage/table.py": "from .. import types\n"})
    assert upward(edges(root)) == [] and function_level(edges(root)) == {}
