"""The graph demos (apps/cora_gcn.py, apps/cora_gat.py, apps/gin_graphs.py) run end to end
with tiny budgets, print their result line and write their figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NODE_LINE = re.compile(
    r"^test accuracy: (\d\.\d{4}) at best validation epoch (\d+) \(val (\d\.\d{4}); (\w+), "
    r"seed (\d+), [\d.]+ s\)$",
    re.M,
)
MEAN_LINE = re.compile(r"^mean test accuracy over (\d+) seeds: (\d\.\d{4}) \+- (\d\.\d{4})", re.M)
PNG = b"\x89PNG\r\n\x1a\n"


def run_app(name: str, *argv: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "apps" / name), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{name} {' '.join(argv)} failed:\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.mark.parametrize(
    "app,dataset", [("cora_gcn.py", "cora"), ("cora_gcn.py", "citeseer"), ("cora_gat.py", "cora")]
)
def test_node_classification_demo_runs(tmp_path, app, dataset):
    argv = ["--dataset", dataset, "--epochs", "3", "--out", str(tmp_path)]
    if app == "cora_gat.py":
        argv += ["--heads", "2", "--hidden", "4"]
    stdout = run_app(app, *argv)
    match = NODE_LINE.search(stdout)
    assert match, stdout
    acc, epoch, val, name, seed = match.groups()
    assert name == dataset and seed == "0" and 1 <= int(epoch) <= 3
    assert 0.0 < float(acc) <= 1.0 and 0.0 < float(val) <= 1.0
    for png in ("curves.png", "embedding.png"):
        assert (tmp_path / png).read_bytes()[:8] == PNG, png


def test_several_runs_print_mean_and_std(tmp_path):
    stdout = run_app("cora_gcn.py", "--epochs", "2", "--runs", "2", "--out", str(tmp_path))
    assert len(NODE_LINE.findall(stdout)) == 2
    match = MEAN_LINE.search(stdout)
    assert match and match.group(1) == "2", stdout


def test_bad_dataset_is_refused(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "apps" / "cora_gcn.py"), "--dataset", "pubmed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "cora or citeseer" in proc.stderr


def test_gin_demo_runs(tmp_path):
    stdout = run_app(
        "gin_graphs.py", "--graphs", "60", "--epochs", "2", "--hidden", "8", "--out", str(tmp_path)
    )
    match = re.search(r"^test accuracy: (\d\.\d{4}) on 12 held-out synthetic graphs", stdout, re.M)
    assert match, stdout
    for png in ("curves.png", "confusion.png", "examples.png"):
        assert (tmp_path / png).read_bytes()[:8] == PNG, png
