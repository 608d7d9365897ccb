"""Graph datasets: Cora and CiteSeer (Planetoid split, bundled), Zachary's karate club, and
synthetic graph families for graph classification."""

from mytorch.graph.datasets.karate import KarateClub
from mytorch.graph.datasets.planetoid import Planetoid
from mytorch.graph.datasets.synthetic import GraphFamilies

__all__ = ["GraphFamilies", "KarateClub", "Planetoid"]
