"""The package's layout holds: imports flow one way (no cycle, counting imports inside functions),
the runtime imports no domain code, the training workflow is never imported by the pipeline, no
module is over 500 lines, and the feature columns are declared in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grader"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package that `path` imports anywhere in its source (functions included)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            # `from .pkg import module` imports a module; `from .module import name` a name in it
            targets = [f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in known else stem for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(name, path, set(found)) for name, path in found.items()}


def test_no_import_cycles(graph):
    visiting, done, cycles = set(), set(), []

    def visit(node, trail):
        if node in visiting:
            cycles.append(trail[trail.index(node):] + [node])
            return
        if node in done:
            return
        visiting.add(node)
        for target in sorted(graph[node]):
            visit(target, trail + [node])
        visiting.discard(node)
        done.add(node)

    for node in sorted(graph):
        visit(node, [])
    assert not cycles, " ; ".join(" -> ".join(c) for c in cycles)


def reachable(graph, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_runtime_imports_no_domain_code(graph):
    assert graph["grader.runtime"] == set()


def test_the_pipeline_never_imports_the_training_workflow(graph):
    for module in ("grader.pipeline", "grader.grading", "grader.writers", "grader.features", "grader.scoring"):
        assert not {m for m in reachable(graph, module) | {module} if m.startswith("grader.tuning")}, module


def test_no_module_is_over_500_lines():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > 500}
    assert not long


def test_feature_columns_are_declared_once():
    from grader.features import COLUMNS, FEATURE_NAMES, AnswerFeatures
    from grader.rubric import load_rubric
    from grader.scoring.learned import DIRECTIONS, OPTIONAL_FEATURES

    assert FEATURE_NAMES == tuple(c.name for c in COLUMNS)
    assert list(AnswerFeatures(load_rubric(None)).get_feature_names_out()) == list(FEATURE_NAMES)
    assert DIRECTIONS == {c.name: c.direction for c in COLUMNS if c.direction != "none"}
    assert OPTIONAL_FEATURES == {c.name for c in COLUMNS if c.optional}
    # Nothing else in the package lists the feature names (a tuple, list or set of them, as the
    # model's directions and the scorer's lookups once were): a new column is one entry in the table.
    for name, path in modules().items():
        if name == "grader.features.columns":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                listed = [e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in FEATURE_NAMES]
                assert len(listed) < 5, (name, node.lineno, listed)


def test_every_declared_column_is_computed(rubric):
    from grader.features import FEATURE_NAMES, AnswerFeatures

    X = [("q1", "Stakhanov mined 102 tons of coal, fourteen times the norm, to meet the Five-Year Plan."),
         ("q2", "Propaganda made him a hero while other workers resented the higher norms."),
         ("q2", "")]
    values = AnswerFeatures(rubric).fit_transform(X)
    assert values.shape == (3, len(FEATURE_NAMES)) and np.isfinite(values).all()
