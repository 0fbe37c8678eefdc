"""The shape of the code: layers that do not leak, no import cycle, nothing private used outside its module,
no module a newcomer cannot read in one sitting. Read from the source (ast), so late imports inside
functions count as much as the ones at the top.

channel (connectors/) → Rasa → actions/ → clients/ → operator systems (sandbox/ here);
common/ (settings, clock, messages, the assistant's SQL state, text helpers) is below all of them."""

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "actions",
    "campaigns",
    "clients",
    "common",
    "components",
    "connectors",
    "console",
    "metrics",
    "privacy",
    "scripts",
    "sandbox",
    "webchat",
)
# package -> the project packages its modules may import
ALLOWED = {
    "common": {"common"},
    "clients": {"clients", "common"},
    "privacy": {"privacy", "common"},
    "components": {"components", "common", "privacy"},
    "connectors": {"connectors", "common", "clients", "components", "privacy"},
    "actions": {"actions", "common", "clients", "privacy"},
    # the campaign sender: a worker beside the action server, speaking into conversations through Rasa's API
    "campaigns": {"campaigns", "common", "clients"},
    "sandbox": {"sandbox", "common"},
    # the figures read the tracker store and the outcomes the actions record (their names: actions.outcomes)
    "metrics": {"metrics", "common", "actions"},
    # the operator console: the dashboard's figures and the campaigns' own functions, never its own copies
    "console": {"console", "common", "campaigns", "metrics"},
    "webchat": set(),
    "scripts": set(PACKAGES) - {"sandbox", "webchat"},
}
MAX_LINES = 400


def modules() -> Dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = modules()


def imported(name: str, path: Path) -> Iterator[Tuple[ast.AST, str, List[str]]]:
    """(node, module imported, names imported from it) for every import in the module, at any depth."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            yield node, base, [alias.name for alias in node.names]


def dependencies(name: str, path: Path) -> Set[str]:
    """The project modules `name` imports (a name imported from a package that is itself a module counts as it)."""
    found = set()
    for _, module, names in imported(name, path):
        for target in [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES] or [module]:
            if target in MODULES:
                found.add(target)
    return found


def cycles() -> List[List[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {name: dependencies(name, path) - {name} for name, path in MODULES.items()}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle():
    assert cycles() == []


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_layer_imports_only_the_layers_below_it(package):
    leaks = sorted(
        f"{name} imports {target}"
        for name, path in MODULES.items()
        if name.split(".")[0] == package
        for target in dependencies(name, path)
        if target.split(".")[0] not in ALLOWED[package]
    )
    assert leaks == []


def test_nothing_private_is_used_outside_its_module():
    found = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text())
        aliases = set()  # local names bound to project modules
        for node, module, names in imported(name, path):
            if isinstance(node, ast.Import):
                aliases.update(a.asname or a.name.split(".")[0] for a in node.names if a.name in MODULES)
            elif module in MODULES or module.split(".")[0] in PACKAGES:
                for alias in node.names:
                    if f"{module}.{alias.name}" in MODULES:
                        aliases.add(alias.asname or alias.name)
                    if alias.name.startswith("_"):
                        found.append(f"{name}: from {module} import {alias.name}")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.append(f"{name}: {node.value.id}.{node.attr}")
    assert found == []


def test_no_module_is_longer_than_a_newcomer_reads_in_one_go():
    long = sorted(
        f"{name}: {len(path.read_text().splitlines())} lines"
        for name, path in MODULES.items()
        if not name.startswith("sandbox") and len(path.read_text().splitlines()) > MAX_LINES
    )
    assert long == []


def test_no_work_at_import_time_in_package_inits():
    """A package's __init__ only names things (docstring, imports, constants): importing it starts nothing."""
    busy = []
    for name, path in MODULES.items():
        if path.name != "__init__.py" or name.startswith("sandbox"):
            continue
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, (ast.Import, ast.ImportFrom, ast.Assign, ast.AnnAssign)) and not (
                isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            ):
                busy.append(f"{name}: line {node.lineno}")
    assert busy == []
