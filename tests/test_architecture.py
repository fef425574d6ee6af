"""Dependencies point one way (DESIGN "Layout"): a module may import only lower layers,
and the siblings store / collect / render / mail never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "newsletter"
LAYERS = {
    "model": 0, "errors": 0,
    "text": 1, "config": 1,
    "sections": 1.5,  # where an item sits and whose it is: one rule for store, render and web
    "store": 2, "collect": 2, "render": 2, "mail": 2,
    "archive": 2.5,  # the static site of sent issues, over store and render
    "flows": 3,  # every use case, one home each
    "app": 4,  # the composition root
    "schedule": 5, "demo": 5,  # faces: the scheduler's wiring, the offline demo
    "web": 6,
    "cli": 7,  # outermost: `serve` runs the editor (web) and the scheduler in one process
}


def top_part(module_path: Path) -> str:
    relative = module_path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def imported_parts(module_path: Path) -> set[str]:
    tree = ast.parse(module_path.read_text(encoding="utf-8"))
    depth_from_package = len(module_path.relative_to(PACKAGE).parts) - 1
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and node.module.startswith("newsletter."):
                found.add(node.module.split(".")[1])
            elif node.level and node.level > depth_from_package:
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("newsletter."))
    return found


def test_every_module_has_a_layer():
    parts = {top_part(p) for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert parts <= set(LAYERS), parts - set(LAYERS)


def test_dependencies_point_one_way():
    violations = []
    for path in PACKAGE.rglob("*.py"):
        own = top_part(path)
        if own in ("__init__", "__main__"):
            continue
        for target in imported_parts(path) - {own, "__init__"}:
            if target in LAYERS and LAYERS[target] >= LAYERS[own]:
                violations.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert not violations, violations
