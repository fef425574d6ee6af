"""Dependencies point one way (DESIGN "Layout"): a module may import only lower layers,
and the siblings store / collect / render / mail never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "newsletter"
LAYERS = {
    "model": 0, "errors": 0,
    "text": 1, "config": 1, "kinds": 0.5,  # kinds: the source-kind registry, below config
    "sections": 1.5,  # where an item sits and whose it is: one rule for store, render and web
    "store": 2, "collect": 2, "render": 2, "mail": 2, "rank": 2,
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


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_sql_runs_only_in_store():
    outside = [f"{path.relative_to(PACKAGE)}:{node.lineno}" for path, tree in _modules()
               if top_part(path) != "store" for node in ast.walk(tree)
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr in ("execute", "executemany", "executescript")]
    assert not outside, outside


# What the composition root alone builds: connections, the HTTP client, the SMTP pool, signed
# tokens, the subscriber flows and every template environment.
ROOT_OBJECTS = {"connect", "HttpClient", "SmtpPool", "Tokens", "Subscriptions", "EmailRenderer", "ConfirmMail",
                "ArchiveTemplates", "Environment", "Jinja2Templates"}


TEMPLATE_CLASSES = {"render/email.py", "mail/confirm.py", "archive/pages.py"}


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def test_only_the_composition_root_builds_the_shared_objects():
    built = []
    for path, tree in _modules():
        relative = str(path.relative_to(PACKAGE))
        if relative == "app.py":
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _called_name(node) not in ROOT_OBJECTS:
                continue
            name = _called_name(node)
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                    and node.func.value.id == "self":
                continue  # a factory handed in (Jobs.connect), not a construction
            # the store's own opening and backup code; the template classes the root builds
            # making their jinja2 environments; the web face wrapping the app's environment
            if (name == "connect" and relative.startswith("store/")) or \
                    (name == "Environment" and relative in TEMPLATE_CLASSES) or \
                    (name == "Jinja2Templates" and relative == "web/core.py"):
                continue
            built.append(f"{relative}:{node.lineno} {name}(")
    assert not built, built


def test_flows_never_import_a_face():
    faces = {"app", "web", "cli", "schedule", "demo"}
    found = [f"{path.relative_to(PACKAGE)} imports {target}" for path, _ in _modules()
             if top_part(path) == "flows" for target in imported_parts(path) & faces]
    assert not found, found


def test_faces_catch_the_root_not_bare_value_or_lookup_errors_from_flows():
    """A refusal is a NewsletterError; a bare ValueError/LookupError from below is a bug (a 500).
    Faces may still catch ValueError around their own parsing (int(), date.fromisoformat())."""
    raised = [f"{path.relative_to(PACKAGE)}:{node.lineno}" for path, tree in _modules()
              if top_part(path) in ("store", "flows", "collect", "render", "mail") for node in ast.walk(tree)
              if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
              and _called_name(node.exc) in ("ValueError", "LookupError", "KeyError")]
    assert not raised, raised
