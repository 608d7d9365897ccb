"""Packages talk to each other through public names only, and modules do not import in circles.

Every Python file of the repository is read (not imported): the sources and tests of each
package, the demos, the benchmarks and these cross-package tests. A name is private when it
starts with one underscore (``_make``; dunders like ``__version__`` are public). A file may use
the private names of its own package; any other package's private modules, functions, classes
and attributes are off limits, as are the private attributes of core's ``Tensor`` on any object
(``t._make``, ``t._inplace``, ``t._version += 1``): to wrap an array there is
``mytorch.core.from_numpy``, to note an in-place change ``mytorch.core.increment_version``.
Reading ``t._version`` stays allowed (PyTorch's version counter, which tests check).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = sorted(p for p in (ROOT / "packages").iterdir() if (p / "src" / "mytorch").is_dir())

# The private attributes of mytorch.core's Tensor (``__slots__`` and methods).
TENSOR_PRIVATE = {"_make", "_inplace", "_fill_data", "_output_nr", "_version", "_hooks"}


def _python_files() -> list[Path]:
    dirs = [ROOT / "apps", ROOT / "tests", ROOT / "benchmarks"]
    for pkg in PACKAGES:
        dirs += [pkg / "src", pkg / "tests"]
    return sorted(f for d in dirs if d.is_dir() for f in d.rglob("*.py"))


def _owner(path: Path) -> str | None:
    """The package a file belongs to (``mytorch.nn`` for packages/mytorch-nn/...), else None."""
    rel = path.relative_to(ROOT).parts
    if rel[0] == "packages":
        return "mytorch." + rel[1].removeprefix("mytorch-")
    return None


def _package_of(module: str) -> str | None:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "mytorch" and len(parts) > 1 else None


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("self", "cls")


def _violations(path: Path) -> list[str]:
    own = _owner(path)
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    foreign: set[str] = set()  # local names bound to another package's modules or objects

    def where(node) -> str:
        return f"{path.relative_to(ROOT)}:{node.lineno}"

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            pkg = _package_of(node.module)
            if pkg is None or pkg == own:
                continue
            if any(_private(part) for part in node.module.split(".")):
                out.append(f"{where(node)}: imports the private module {node.module}")
            for alias in node.names:
                if _private(alias.name):
                    out.append(f"{where(node)}: imports {node.module}.{alias.name}")
                foreign.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                pkg = _package_of(alias.name)
                if pkg is None or pkg == own:
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    out.append(f"{where(node)}: imports the private module {alias.name}")
                foreign.add((alias.asname or alias.name).split(".")[0])

    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not _private(node.attr):
            continue
        base = node.value
        while isinstance(base, ast.Attribute):
            base = base.value
        if isinstance(base, ast.Name) and base.id in foreign:
            out.append(f"{where(node)}: uses {ast.unparse(node)}")
        elif (
            own != "mytorch.core"
            and node.attr in TENSOR_PRIVATE
            and not _is_self(node.value)
            and not (node.attr == "_version" and isinstance(node.ctx, ast.Load))
        ):
            out.append(f"{where(node)}: uses the Tensor internal {ast.unparse(node)}")
    return out


def test_no_private_names_across_packages():
    files = _python_files()
    assert len(files) > 100  # the scan really reads the repository
    found = [v for f in files for v in _violations(f)]
    assert not found, "private names used across packages:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "pattern",
    [r"\._make\(", r"\b_atomic_write\b", r"\b_conv\(", r"\b_as4d\b", r"\._version \+= "],
)
def test_known_private_helpers_stay_inside_core(pattern):
    core = ROOT / "packages" / "mytorch-core"
    hits = [
        f"{f.relative_to(ROOT)}:{i}"
        for f in _python_files()
        if core not in f.parents and f != Path(__file__).resolve()
        for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(pattern, line)
    ]
    assert not hits, f"{pattern} outside mytorch-core:\n" + "\n".join(hits)


def test_the_scan_catches_what_it_is_for(tmp_path, monkeypatch):
    sample = ROOT / "packages" / "mytorch-nn" / "src" / "mytorch" / "nn" / "_scan_sample.py"
    text = (
        "from mytorch.core.tensor import Tensor\n"
        "from mytorch.core.ops.conv import _conv\n"
        "import mytorch.core.optim._kernels\n"
        "from mytorch.nn.module import _private_helper\n"  # its own package: allowed
        "t = Tensor._make(None)\n"
        "def f(x):\n"
        "    x._version += 1\n"
        "    return x._version\n"  # reading the version counter is allowed
    )
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: text)
    found = _violations(sample)
    assert len(found) == 4, found
    assert any("_conv" in v for v in found) and any("_kernels" in v for v in found)
    assert any("Tensor._make" in v for v in found) and any("x._version" in v for v in found)


# ---------------------------------------------------------------------------- import loops

# Runtime import loops that are there by design: Tensor's methods delegate to the op modules
# (imported at the bottom of tensor.py) while the ops build Tensors; the engine and the
# reductions, and indexing and movement, call each other's functions (imported in the function).
ALLOWED_LOOPS = {
    frozenset({"mytorch.core.tensor", f"mytorch.core.ops.{family}"})
    for family in (
        "activation",
        "elementwise",
        "indexing",
        "linalg",
        "movement",
        "reduce",
        "scatter",
    )
} | {
    frozenset({"mytorch.core.autograd", "mytorch.core.tensor"}),
    # the engine calls ops lazily: sum_to for the broadcasting adjoint, Reshape for vjp's aliases
    frozenset({"mytorch.core.autograd", "mytorch.core.ops.reduce"}),
    frozenset({"mytorch.core.autograd", "mytorch.core.ops.movement"}),
    frozenset({"mytorch.core.ops.indexing", "mytorch.core.ops.movement"}),
}


def _module_names() -> dict[str, Path]:
    names = {}
    for pkg in PACKAGES:
        src = pkg / "src"
        for f in src.rglob("*.py"):
            parts = list(f.relative_to(src).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names[".".join(parts)] = f
    return names


def _runtime_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The repository modules ``path`` imports when it runs (in functions too), leaving out
    ``if TYPE_CHECKING:`` blocks and imports of a package's ``__init__`` by its own modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    deps = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        deps.update(t for t in targets if t in modules and modules[t].name != "__init__.py")
    return deps


def test_no_import_loops_between_modules():
    modules = _module_names()
    graph = {m: _runtime_imports(f, modules) - {m} for m, f in modules.items()}
    loops = {frozenset({a, b}) for a in graph for b in graph[a] if a in graph.get(b, ())}
    assert {"mytorch.core.ops.pool", "mytorch.core.ops.resample"} <= set(graph)  # scan works
    unexpected = sorted(sorted(pair) for pair in loops - ALLOWED_LOOPS)
    assert not unexpected, f"modules that import each other: {unexpected}"
