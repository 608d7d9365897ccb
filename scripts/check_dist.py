"""Check built wheels and sdists of mytorch packages against what a release must contain.

    python scripts/check_dist.py dist/mytorch_seq-0.2.0.tar.gz dist/mytorch_seq-0.2.0-*.whl

For each artifact: the metadata names the version, license expression and every license file of
the package's pyproject.toml; every license file, the MIT ``LICENSE`` and ``py.typed`` are inside;
an sdist also holds ``pyproject.toml``, ``README.md``, ``CHANGELOG.md`` and the package's
``tests/`` (with ``tests/test_smoke.py``); nothing stray (``*.orig``, ``*.rej``, ``*.pyc``,
``__pycache__``, dot-files, anything outside the expected top-level names). Exits 1 with one line
per problem. Needs only the standard library.
"""

from __future__ import annotations

import sys
import tarfile
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
STRAY_SUFFIXES = (".orig", ".rej", ".pyc", ".pyo", ".bak", ".swp", "~")
SDIST_TOP = {"PKG-INFO", "pyproject.toml", "README.md", "CHANGELOG.md", "LICENSE", "src", "tests"}


def _pyproject(dist_name: str) -> dict:
    path = ROOT / "packages" / dist_name.replace("_", "-") / "pyproject.toml"
    if not path.is_file():
        raise SystemExit(f"check_dist: no package folder for {dist_name!r} ({path} is missing)")
    return tomllib.loads(path.read_text())["project"]


def _stray(names: list[str]) -> list[str]:
    bad = []
    for name in names:
        parts = PurePosixPath(name).parts
        if any(p == "__pycache__" or (p.startswith(".") and p not in (".", "..")) for p in parts):
            bad.append(name)
        elif name.endswith(STRAY_SUFFIXES):
            bad.append(name)
    return bad


def _check_metadata(label: str, raw: str, project: dict) -> list[str]:
    meta = HeaderParser().parsestr(raw)
    problems = []
    if meta["Version"] != project["version"]:
        problems.append(f"{label}: Version {meta['Version']} != pyproject {project['version']}")
    if meta["License-Expression"] != project["license"]:
        problems.append(
            f"{label}: License-Expression {meta['License-Expression']!r} != {project['license']!r}"
        )
    declared = set(meta.get_all("License-File") or [])
    for path in project.get("license-files", []):
        if path not in declared:
            problems.append(f"{label}: License-File {path} not declared in the metadata")
    if not meta.get_all("Classifier"):
        problems.append(f"{label}: no classifiers")
    if not meta.get_all("Project-URL"):
        problems.append(f"{label}: no project URLs")
    return problems


def check_wheel(path: Path) -> list[str]:
    dist_name, version = path.name.split("-")[:2]
    project = _pyproject(dist_name)
    module = project["name"].removeprefix("mytorch-")
    label = path.name
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        info = f"{dist_name}-{version}.dist-info"
        problems = _check_metadata(label, zf.read(f"{info}/METADATA").decode(), project)
    problems += [f"{label}: stray file {n}" for n in _stray(names)]
    for lic in project.get("license-files", []):
        if f"{info}/licenses/{lic}" not in names:
            problems.append(f"{label}: license file {lic} missing from {info}/licenses/")
        inner = lic.removeprefix("src/")
        if lic.startswith("src/") and inner not in names:
            problems.append(f"{label}: {inner} (license beside its data) missing")
    if f"mytorch/{module}/py.typed" not in names:
        problems.append(f"{label}: mytorch/{module}/py.typed missing")
    if any(n in ("mytorch/__init__.py",) for n in names):
        problems.append(f"{label}: mytorch/__init__.py breaks the namespace package")
    tops = {n.split("/")[0] for n in names}
    if tops - {"mytorch", info}:
        problems.append(f"{label}: unexpected top-level entries {sorted(tops - {'mytorch', info})}")
    return problems


def check_sdist(path: Path) -> list[str]:
    stem = path.name.removesuffix(".tar.gz")
    dist_name = stem.rsplit("-", 1)[0]
    project = _pyproject(dist_name)
    module = project["name"].removeprefix("mytorch-")
    label = path.name
    with tarfile.open(path) as tf:
        members = [m.name for m in tf.getmembers() if m.isfile()]
        problems = []
        if not all(m.startswith(f"{stem}/") for m in members):
            problems.append(f"{label}: not every file lies under {stem}/")
        pkg_info = tf.extractfile(f"{stem}/PKG-INFO").read().decode()
    names = [m.removeprefix(f"{stem}/") for m in members]
    problems += _check_metadata(label, pkg_info, project)
    problems += [f"{label}: stray file {n}" for n in _stray(names)]
    tops = {n.split("/")[0] for n in names}
    if tops - SDIST_TOP:
        problems.append(f"{label}: unexpected top-level entries {sorted(tops - SDIST_TOP)}")
    required = ["pyproject.toml", "README.md", "CHANGELOG.md", "tests/test_smoke.py"]
    required += [f"src/mytorch/{module}/py.typed", *project.get("license-files", [])]
    problems += [f"{label}: {n} missing" for n in required if n not in names]
    tests_here = {n for n in names if n.startswith("tests/") and n.endswith(".py")}
    tests_repo = {
        p.relative_to(ROOT / "packages" / project["name"]).as_posix()
        for p in (ROOT / "packages" / project["name"] / "tests").rglob("*.py")
    }
    if tests_repo - tests_here:
        problems.append(f"{label}: tests missing from the sdist: {sorted(tests_repo - tests_here)}")
    return problems


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    problems = []
    for p in map(Path, paths):
        if p.name.endswith(".whl"):
            problems += check_wheel(p)
        elif p.name.endswith(".tar.gz"):
            problems += check_sdist(p)
        else:
            problems.append(f"{p}: neither a wheel nor an sdist")
    for line in problems:
        print(f"check_dist: {line}", file=sys.stderr)
    if not problems:
        print(f"check_dist: {len(paths)} artifact(s) ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
