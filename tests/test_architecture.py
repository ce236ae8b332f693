"""The library's shape: imports run one way, models are plain Chainer, every task keeps the contract."""
import ast
import dataclasses
import inspect
from pathlib import Path

import pytest

import course  # noqa: F401  (shims before anything imports chainer)

COURSE = Path(course.__file__).resolve().parent

# Lower layers first. A module may import from its own layer's modules and from layers above it in
# this list, never from one below: data never imports a model, a model never imports the loop, the
# loop never imports a lesson's task or a notebook helper.
LAYERS = [
    ("compat", "errors"),
    ("files", "device", "seed", "profiles", "kernels"),
    ("images",),
    ("data",),
    ("models",),
    ("losses",),
    ("metrics",),
    ("imaging", "features", "detection"),
    ("training",),
    ("tasks",),
    ("checks",),
    ("viz", "widgets"),
    ("classroom", "webapp"),
    ("doctor", "__main__", "__init__"),
]
LAYER = {name: i for i, names in enumerate(LAYERS) for name in names}


def _component(module: str) -> str | None:
    """``course.data.faces`` -> ``data``; ``course`` -> ``__init__``; not the course -> None."""
    parts = module.split(".")
    if parts[0] != "course":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path):
    """(line, imported course module) for every import in ``path``, at any depth (functions included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "course":
                for alias in node.names:
                    yield node.lineno, f"course.{alias.name}"
            else:
                yield node.lineno, node.module


def _modules():
    for path in sorted(COURSE.rglob("*.py")):
        relative = path.relative_to(COURSE)
        yield path, relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or relative.stem != "__init__" \
            else "__init__"


def test_every_module_has_a_layer():
    unplaced = sorted({component for _, component in _modules() if component not in LAYER})
    assert not unplaced, f"add these to LAYERS in {__file__}: {unplaced}"


def test_imports_run_one_way():
    backwards = []
    for path, component in _modules():
        for line, module in _imports(path):
            target = _component(module)
            if target is None or target == component:
                continue
            assert target in LAYER, f"{path}:{line} imports {module}, which has no layer"
            if LAYER[target] > LAYER[component]:
                backwards.append(f"{path.relative_to(COURSE.parent)}:{line} ({component}) imports {module} ({target})")
    assert not backwards, "imports that run back up the layers:\n" + "\n".join(backwards)


def test_the_layer_check_catches_a_backward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from course.training import fit\n")
    assert [(2, "course.training")] == list(_imports(bad))
    assert LAYER[_component("course.training")] > LAYER["models"]


def test_models_are_plain_chainer():
    """The models a learner reads use Chainer's own links and functions, nothing of the course's beneath them."""
    for path in sorted((COURSE / "models").glob("*.py")):
        imported = {module for _, module in _imports(path)}
        assert not any(m.startswith(("course.kernels", "course.training", "course.tasks")) for m in imported), path


def test_every_task_keeps_the_contract():
    from course.profiles import PROFILES
    from course.tasks import TASKS, task

    for name in TASKS:
        t = task(name)
        module = __import__(TASKS[name], fromlist=["TASK"])
        assert t.name == name and t.lesson.isdigit() and t.help and t.data
        assert set(t.sizes) == set(PROFILES)
        quick, full = t.sizes["quick"], t.sizes["full"]
        assert dataclasses.is_dataclass(quick) and type(quick) is type(full)
        assert quick is module.QUICK and full is module.FULL
        with pytest.raises(dataclasses.FrozenInstanceError):
            quick.__setattr__(dataclasses.fields(quick)[0].name, None)
        # A size that is the same in both profiles is a constant, not a profile entry.
        same = [f.name for f in dataclasses.fields(quick) if getattr(quick, f.name) == getattr(full, f.name)]
        assert not same, f"{name}: {same} do not change between profiles: make them constants or defaults"
        parameters = inspect.signature(t.train).parameters
        for keyword in ("sizes", "profile", "device", "source", "progress", "live_plot"):
            assert parameters[keyword].kind is inspect.Parameter.KEYWORD_ONLY, (name, keyword)
