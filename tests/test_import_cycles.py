"""Dependencies between the domain packages point one way.

Walks every import in ``grc/`` (those made inside functions too, which is where a cycle
hides; not those under ``TYPE_CHECKING``) and fails on a cycle of modules that spans two
domain packages. Importing another package's ``models`` is a model relationship (a
foreign key, a relationship()) and does not count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import grc

ROOT = Path(grc.__file__).parent
DOMAINS = {
    "housing",
    "people",
    "claims",
    "contracts",
    "inbound",
    "messaging",
    "telephony",
    "surveys",
}

# Import edges of a cycle being taken apart elsewhere, each with why it is still here.
KNOWN: set[tuple[str, str]] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(("grc", *path.relative_to(ROOT).with_suffix("").parts))
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_checking = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    for node in ast.walk(tree):
        if id(node) in type_checking:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in modules:
                    yield submodule
                elif node.module in modules:
                    yield node.module


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {
            target
            for target in _imports(path, modules)
            if target != name and not target.endswith(".models") and (name, target) not in KNOWN
        }
        for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _domain(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in DOMAINS else None


def test_no_import_cycle_spans_two_domain_packages() -> None:
    graph = _graph()
    assert "grc.contracts.work_orders" in graph["grc.inbound.processing"]  # the walk sees imports
    spanning = [cycle for cycle in _cycles(graph) if len({_domain(m) for m in cycle} - {None}) > 1]
    assert spanning == []


def test_the_walk_finds_a_cycle_when_there_is_one() -> None:
    graph = {"grc.claims.a": {"grc.contracts.b"}, "grc.contracts.b": {"grc.claims.a"}}
    assert _cycles(graph) == [["grc.claims.a", "grc.contracts.b"]]
