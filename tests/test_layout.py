"""The shape of the code: the core never imports the lab or QGIS, the lab may import the core, and
every Processing algorithm makes exactly one engine call. These walk the source (ast), so they
hold for imports inside functions too."""
import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORE, LAB = "mars_cloudmask_plugin", "mars_cloudmask_lab"


def _modules(package):
    return sorted((REPO / package).rglob("*.py"))


def _imported(path):
    """Absolute names a module imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("path", _modules(CORE), ids=lambda p: str(p.relative_to(REPO)))
def test_core_module_imports_neither_the_lab_nor_qgis(path):
    offenders = [n for n in _imported(path) if n.split(".")[0] in (LAB, "qgis", "processing")]
    assert offenders == [], f"{path.relative_to(REPO)} imports {offenders}"


def test_the_lab_holds_training_evaluation_seasons_benchmark_and_the_research_scripts():
    for name in ("train.py", "losses.py", "evaluate.py", "metrics.py", "seasons.py", "benchmark.py",
                 "scripts/gbm_baseline.py", "scripts/error_analysis.py"):
        assert (REPO / LAB / name).is_file(), name
        assert not (REPO / CORE / Path(name).name).exists(), name
    assert sorted((REPO / LAB / "recipes").glob("*.json")), "training recipes live in the lab"
    assert not (REPO / "models" / "training").exists()


def test_the_core_cli_works_without_the_lab(monkeypatch):
    """With the lab not installed (no entry points, the package unimportable), the core's CLI still
    builds and offers its own commands."""
    import sys
    from mars_cloudmask_plugin import cli
    monkeypatch.setitem(sys.modules, LAB, None)
    monkeypatch.setattr(cli, "entry_points", lambda group: [])
    commands = cli.build_parser()._subparsers._group_actions[0].choices
    assert {"predict", "batch", "frequency", "zonal", "mdad-boxes"} <= set(commands)
    assert "train" not in commands


def test_core_cli_finds_the_lab_commands_only_through_entry_points():
    from mars_cloudmask_plugin import cli
    names = [name for name, _ in cli.extra_commands()]
    assert names == ["benchmark", "ensemble", "evaluate", "seasons", "train"]
    assert set(cli.COMMANDS).isdisjoint(names)


def _engine_calls(function, engine_names):
    """Calls in `function` of the form <engine module>.<function>(...), or
    self.run_engine(<engine module>.<function>, ...) (in process or in the runtime's worker)."""
    def is_engine_function(node):
        return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in engine_names
    calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
    direct = [node.func.attr for node in calls if is_engine_function(node.func)]
    routed = [node.args[0].attr for node in calls if isinstance(node.func, ast.Attribute)
              and node.func.attr == "run_engine" and node.args and is_engine_function(node.args[0])]
    return direct + routed


ALGORITHM_FILES = sorted(p for p in (REPO / "processing").glob("*.py")
                         if "processAlgorithm" not in p.read_text() and "def process(" in p.read_text())


@pytest.mark.parametrize("path", ALGORITHM_FILES, ids=lambda p: p.stem)
def test_every_algorithm_makes_one_engine_call(path):
    tree = ast.parse(path.read_text())
    process = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name == "process"]
    assert len(process) == 1
    engine = {alias.asname or alias.name for node in ast.walk(process[0]) if isinstance(node, ast.ImportFrom)
              and node.level == 2 and node.module == CORE for alias in node.names}
    assert engine, f"{path.name}: process() imports no engine module"
    calls = _engine_calls(process[0], engine)
    assert len(calls) == 1, f"{path.name}: process() calls {calls}"
    if "MODEL_MODULES" in path.read_text() and path.stem != "installruntime":
        # the algorithms that run the network make their call through run_engine (worker or in process)
        assert "self.run_engine(" in ast.unparse(process[0]), f"{path.name}: the network call bypasses run_engine"


def test_every_algorithm_declares_its_parameter_keys_as_class_constants():
    for path in ALGORITHM_FILES:
        tree = ast.parse(path.read_text())
        process = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "process")
        literals = [node.value for node in ast.walk(process) if isinstance(node, ast.Constant)
                    and isinstance(node.value, str) and re.fullmatch(r"[A-Z][A-Z0-9_]+", node.value)]
        assert literals == [], f"{path.name}: parameter keys typed in process(): {literals}"
