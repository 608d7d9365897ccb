# /// script
# requires-python = ">=3.11"
# dependencies = ["twine>=6.1"]
# ///
"""Release ONE mytorch package: bump its version, build, check, tag and publish.

    uv run scripts/release.py mytorch-seq --bump minor                  # bump, build, check
    uv run scripts/release.py mytorch-seq --bump minor --tag --publish  # ... commit, tag, upload
    uv run scripts/release.py mytorch-seq --publish --repository-url http://127.0.0.1:8080/

Steps, in order:
1. ``--bump major|minor|patch`` writes the new version into the package's pyproject.toml (its
   only home: ``__version__`` is read from the installed metadata), turns the CHANGELOG's
   ``## Unreleased`` section into ``## X.Y.Z - YYYY-MM-DD`` (it must not be empty) and, when the
   new version leaves a sibling's compatible-release bound (``mytorch-core~=0.1.0``), moves that
   bound in the sibling's pyproject.toml and says the sibling needs a release too. Without
   ``--bump`` the current version is released as it is.
2. Build the sdist and the wheel with ``uv build --no-sources`` into ``dist/<package>/``.
3. Check them: ``twine check --strict`` and ``scripts/check_dist.py`` (license files, tests in the
   sdist, no stray files, metadata matching pyproject.toml).
4. ``--tag``: commit the changed files and create the annotated tag ``<package>-vX.Y.Z``
   (push it yourself: ``git push origin <package>-vX.Y.Z``).
5. ``--publish``: ``twine upload`` to ``--repository-url`` (default: PyPI), credentials from
   ``TWINE_USERNAME``/``TWINE_PASSWORD`` (for PyPI: ``__token__`` and an API token).
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ROOT / "packages"
_VERSION_LINE = re.compile(r'^version = "(\d+)\.(\d+)\.(\d+)"$', re.M)
_UNRELEASED = re.compile(r"^## Unreleased[ \t]*\n(.*?)(?=^## |\Z)", re.M | re.S)


def package_dir(name: str) -> Path:
    """``mytorch-seq`` or ``seq`` -> ``packages/mytorch-seq``."""
    full = name if name.startswith("mytorch-") else f"mytorch-{name}"
    path = PACKAGES / full
    if not (path / "pyproject.toml").is_file():
        known = sorted(p.name for p in PACKAGES.glob("*/pyproject.toml"))
        raise SystemExit(f"release: package must be one of {known}, got {name!r}")
    return path


def read_version(pyproject: Path) -> tuple[int, int, int]:
    match = _VERSION_LINE.search(pyproject.read_text())
    if match is None:
        raise SystemExit(f"release: no 'version = \"X.Y.Z\"' line in {pyproject}")
    return tuple(int(g) for g in match.groups())


def bumped(version: tuple[int, int, int], part: str) -> tuple[int, int, int]:
    major, minor, patch = version
    if part == "major":
        return major + 1, 0, 0
    if part == "minor":
        return major, minor + 1, 0
    if part == "patch":
        return major, minor, patch + 1
    raise ValueError(f"bump: part must be 'major', 'minor' or 'patch', got {part!r}")


def fmt(version: tuple[int, int, int]) -> str:
    return ".".join(map(str, version))


def write_version(pyproject: Path, version: tuple[int, int, int]) -> None:
    text, n = _VERSION_LINE.subn(f'version = "{fmt(version)}"', pyproject.read_text(), count=1)
    assert n == 1, pyproject
    pyproject.write_text(text)
    assert tomllib.loads(text)["project"]["version"] == fmt(version)


def release_changelog(changelog: Path, version: tuple[int, int, int], today: datetime.date) -> None:
    """``## Unreleased`` (non-empty) becomes ``## X.Y.Z - date``; a new empty one goes on top."""
    text = changelog.read_text()
    match = _UNRELEASED.search(text)
    if match is None or not match.group(1).strip():
        raise SystemExit(
            f"release: {changelog.parent.name}/{changelog.name} needs a non-empty '## Unreleased' section "
            "saying what changed"
        )
    heading = f"## Unreleased\n\n## {fmt(version)} - {today.isoformat()}"
    changelog.write_text(text[: match.start()] + heading + text[match.start() + 13 :])


def move_sibling_bounds(name: str, version: tuple[int, int, int]) -> list[Path]:
    """Rewrite ``name~=A.B.C`` in the other packages when ``version`` leaves that bound."""
    pattern = re.compile(rf'"{re.escape(name)}(\[[^\]]*\])?~=(\d+)\.(\d+)\.(\d+)"')
    changed = []
    for pyproject in sorted(PACKAGES.glob("*/pyproject.toml")):
        if pyproject.parent.name == name:
            continue
        text = pyproject.read_text()

        def repl(m: re.Match) -> str:
            if (int(m.group(2)), int(m.group(3))) == version[:2]:
                return m.group(0)  # ~=A.B.C admits every A.B.* at or above C
            return f'"{name}{m.group(1) or ""}~={version[0]}.{version[1]}.0"'

        new = pattern.sub(repl, text)
        if new != text:
            pyproject.write_text(new)
            changed.append(pyproject)
    return changed


def run(*cmd: str | Path) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("package", help="mytorch-seq (or seq)")
    parser.add_argument("--bump", choices=["major", "minor", "patch"], help="bump the version")
    parser.add_argument("--tag", action="store_true", help="commit and tag <package>-vX.Y.Z")
    parser.add_argument("--publish", action="store_true", help="upload with twine")
    parser.add_argument(
        "--repository-url", help="index upload URL (default: PyPI's); e.g. a local pypiserver"
    )
    parser.add_argument(
        "--out", type=Path, help="where the artifacts go (default: dist/<package>/)"
    )
    args = parser.parse_args(argv)

    pkg = package_dir(args.package)
    name = pkg.name
    pyproject = pkg / "pyproject.toml"
    touched: list[Path] = []
    version = read_version(pyproject)
    if args.bump:
        old, version = version, bumped(version, args.bump)
        release_changelog(pkg / "CHANGELOG.md", version, datetime.date.today())
        write_version(pyproject, version)
        touched += [pyproject, pkg / "CHANGELOG.md"]
        print(f"{name}: {fmt(old)} -> {fmt(version)}")
        for sibling in move_sibling_bounds(name, version):
            touched.append(sibling)
            print(
                f"  moved the bound on {name} in {sibling.relative_to(ROOT)}: "
                f"release {sibling.parent.name} too"
            )

    out = (args.out or ROOT / "dist" / name).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old_file in out.glob(f"{name.replace('-', '_')}-*"):
        old_file.unlink()
    run("uv", "build", "--package", name, "--no-sources", "--out-dir", out)
    artifacts = sorted(out.glob(f"{name.replace('-', '_')}-{fmt(version)}*"))
    if len(artifacts) != 2:
        raise SystemExit(f"release: expected one sdist and one wheel in {out}, got {artifacts}")
    run(sys.executable, "-m", "twine", "check", "--strict", *artifacts)
    run(sys.executable, ROOT / "scripts" / "check_dist.py", *artifacts)

    tag = f"{name}-v{fmt(version)}"
    if args.tag:
        if touched:
            run("git", "add", *touched)
            run("git", "commit", "-m", f"{name} {fmt(version)}")
        run("git", "tag", "-a", tag, "-m", f"{name} {fmt(version)}")
    if args.publish:
        upload = [sys.executable, "-m", "twine", "upload", "--non-interactive"]
        if args.repository_url:
            upload += ["--repository-url", args.repository_url]
        run(*upload, *artifacts)
    print(f"{name} {fmt(version)}: built and checked" + (", published" if args.publish else ""))
    if args.tag:
        print(f"push the tag: git push origin {tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
