"""Release engineering invariants over every package under packages/, and the release scripts.

Each package's version lives only in its pyproject.toml; siblings are required with
compatible-release bounds that admit the sibling's current version; every package ships the MIT
LICENSE (and its data's license), a CHANGELOG, a smoke test and a ``test`` extra; the workspace
root lists it. New packages are covered by being folders under packages/.
"""

from __future__ import annotations

import datetime
import importlib.util
import re
import shutil
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIRS = sorted(p.parent for p in (ROOT / "packages").glob("*/pyproject.toml"))
PROJECTS = {
    d.name: tomllib.loads((d / "pyproject.toml").read_text())["project"] for d in PACKAGE_DIRS
}
NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_{name}", ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


release = _load("release")
check_dist = _load("check_dist")


def _requirements(project: dict) -> list[tuple[str, str]]:
    reqs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    out = []
    for req in reqs:
        m = NAME.match(req.split(";")[0].strip())
        out.append((m.group(1).lower().replace("_", "-"), m.group(3).replace(" ", "")))
    return out


def test_packages_are_discovered():
    assert {"mytorch-core", "mytorch-nn"} <= set(PROJECTS)
    assert all(d.name == PROJECTS[d.name]["name"] for d in PACKAGE_DIRS)


@pytest.mark.parametrize("pkg", PACKAGE_DIRS, ids=lambda d: d.name)
def test_version_lives_in_pyproject_only(pkg):
    version = PROJECTS[pkg.name]["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), version
    for path in (pkg / "src").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^__version__\s*=\s*[\"']", text, re.M), f"{path}: literal version"
        literal = re.search(r"[\"']mytorch[\w.-]*/\d+\.\d+", text)
        assert literal is None, f"{path}: version literal {literal.group(0)!r}"
    init = pkg / "src" / "mytorch" / pkg.name.removeprefix("mytorch-") / "__init__.py"
    assert re.search(rf'version\("{pkg.name}"\)', init.read_text()), (
        f"{init}: __version__ from the metadata"
    )
    for readme in (pkg / "README.md", ROOT / "README.md"):
        found = re.search(rf"(?i)version\s+{re.escape(version)}\b", readme.read_text())
        assert found is None, f"{readme}: {found.group(0)!r} (the version lives in pyproject.toml)"


def _bound_problems(name: str, projects: dict[str, dict]) -> list[str]:
    problems = []
    for dep, spec in _requirements(projects[name]):
        if dep not in projects:
            continue
        m = re.fullmatch(r"~=(\d+)\.(\d+)\.(\d+)", spec)
        if m is None:
            problems.append(f"{name}: {dep}{spec or ' (no bound)'}: use {dep}~=X.Y.Z")
            continue
        major, minor, patch = map(int, m.groups())
        current = tuple(map(int, projects[dep]["version"].split(".")))
        if current[:2] != (major, minor) or current[2] < patch:
            problems.append(f"{name} requires {dep}{spec} but {dep} is {projects[dep]['version']}")
    return problems


@pytest.mark.parametrize("pkg", PACKAGE_DIRS, ids=lambda d: d.name)
def test_siblings_are_required_with_compatible_release_bounds(pkg):
    assert _bound_problems(pkg.name, PROJECTS) == []


def test_bound_check_catches_missing_and_stale_bounds():
    projects = {
        "mytorch-core": {"version": "0.2.0"},
        "mytorch-nn": {"version": "0.1.0", "dependencies": ["mytorch-core", "numpy>=1.26"]},
        "mytorch-seq": {
            "version": "0.1.0",
            "dependencies": ["mytorch-core~=0.1.0"],
            "optional-dependencies": {"test": ["mytorch-nn>=0.1"]},
        },
    }
    assert _bound_problems("mytorch-nn", projects) == [
        "mytorch-nn: mytorch-core (no bound): use mytorch-core~=X.Y.Z"
    ]
    assert _bound_problems("mytorch-seq", projects) == [
        "mytorch-seq requires mytorch-core~=0.1.0 but mytorch-core is 0.2.0",
        "mytorch-seq: mytorch-nn>=0.1: use mytorch-nn~=X.Y.Z",
    ]


@pytest.mark.parametrize("pkg", PACKAGE_DIRS, ids=lambda d: d.name)
def test_license_changelog_smoke_test_and_test_extra(pkg):
    project = PROJECTS[pkg.name]
    assert (pkg / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert project["license"].split(" AND ")[0] == "MIT"
    assert project["license-files"][0] == "LICENSE"
    for path in project["license-files"]:
        assert (pkg / path).is_file(), f"{pkg.name}: license file {path} missing"
    changelog = (pkg / "CHANGELOG.md").read_text()
    assert "## Unreleased" in changelog or f"## {project['version']}" in changelog
    assert (pkg / "tests" / "test_smoke.py").is_file()
    assert any(r.startswith("pytest") for r in project["optional-dependencies"]["test"])
    assert (pkg / "src" / "mytorch" / pkg.name.removeprefix("mytorch-") / "py.typed").is_file()
    assert not (pkg / "src" / "mytorch" / "__init__.py").exists(), "mytorch is a namespace"
    assert project["classifiers"] and project["urls"]
    assert (
        "tests/"
        in tomllib.loads((pkg / "pyproject.toml").read_text())["tool"]["flit"]["sdist"]["include"]
    )


def test_workspace_root_lists_every_package():
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = {
        re.split(r"[\[<>=~!; ]", dep, maxsplit=1)[0] for dep in root["project"]["dependencies"]
    }
    assert set(PROJECTS) <= listed
    assert set(PROJECTS) <= set(root["tool"]["uv"]["sources"])
    assert "pytest>=8" not in root["dependency-groups"]["apps"], "test tools stay in dev"
    assert root["tool"]["uv"]["default-groups"] == ["apps"]


@pytest.mark.parametrize(
    ("part", "expected"), [("patch", (0, 1, 1)), ("minor", (0, 2, 0)), ("major", (1, 0, 0))]
)
def test_bumped(part, expected):
    assert release.bumped((0, 1, 0), part) == expected


def _fake_workspace(tmp_path: Path, monkeypatch) -> Path:
    packages = tmp_path / "packages"
    for name in ("mytorch-core", "mytorch-nn"):
        shutil.copytree(
            ROOT / "packages" / name, packages / name, ignore=shutil.ignore_patterns("src", "tests")
        )
    monkeypatch.setattr(release, "ROOT", tmp_path)
    monkeypatch.setattr(release, "PACKAGES", packages)
    return packages


def test_minor_bump_moves_only_pyproject_changelog_and_sibling_bounds(tmp_path, monkeypatch):
    packages = _fake_workspace(tmp_path, monkeypatch)
    core = packages / "mytorch-core"
    old = release.read_version(core / "pyproject.toml")
    new = release.bumped(old, "minor")
    release.write_version(core / "pyproject.toml", new)
    release.release_changelog(core / "CHANGELOG.md", new, datetime.date(2027, 1, 2))
    moved = release.move_sibling_bounds("mytorch-core", new)

    assert tomllib.loads((core / "pyproject.toml").read_text())["project"][
        "version"
    ] == release.fmt(new)
    changelog = (core / "CHANGELOG.md").read_text()
    assert f"## Unreleased\n\n## {release.fmt(new)} - 2027-01-02\n\n###" in changelog
    assert moved == [packages / "mytorch-nn" / "pyproject.toml"]
    nn = tomllib.loads(moved[0].read_text())["project"]
    assert f"mytorch-core~={new[0]}.{new[1]}.0" in nn["dependencies"]


def test_patch_bump_keeps_sibling_bounds(tmp_path, monkeypatch):
    packages = _fake_workspace(tmp_path, monkeypatch)
    before = (packages / "mytorch-nn" / "pyproject.toml").read_text()
    new = release.bumped(
        release.read_version(packages / "mytorch-core" / "pyproject.toml"), "patch"
    )
    assert release.move_sibling_bounds("mytorch-core", new) == []
    assert (packages / "mytorch-nn" / "pyproject.toml").read_text() == before


def test_release_refuses_an_empty_unreleased_section(tmp_path):
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text("# Changelog\n\n## Unreleased\n\n## 0.1.0\n\nFirst release.\n")
    with pytest.raises(SystemExit, match="non-empty '## Unreleased'"):
        release.release_changelog(changelog, (0, 1, 1), datetime.date(2027, 1, 2))


def test_check_dist_flags_stray_and_missing_files(tmp_path):
    project = PROJECTS["mytorch-core"]
    info = f"mytorch_core-{project['version']}.dist-info"
    wheel = tmp_path / f"mytorch_core-{project['version']}-py3-none-any.whl"
    metadata = (
        f"Metadata-Version: 2.4\nName: mytorch-core\nVersion: {project['version']}\n"
        f"License-Expression: {project['license']}\nLicense-File: LICENSE\n"
        "Classifier: Typing :: Typed\nProject-URL: Homepage, https://example.org\n"
    )
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(f"{info}/METADATA", metadata)
        zf.writestr("mytorch/core/__init__.py", "")
        zf.writestr("mytorch/core/pyproject.toml.orig", "")
    problems = check_dist.check_wheel(wheel)
    assert any("stray file mytorch/core/pyproject.toml.orig" in p for p in problems)
    assert any("license file LICENSE missing" in p for p in problems)
    assert any("py.typed" in p for p in problems)
