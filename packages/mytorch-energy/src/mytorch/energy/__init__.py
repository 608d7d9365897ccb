"""mytorch.energy: compute counting, energy audit, carbon estimates and energy regularizers."""

from importlib.metadata import PackageNotFoundError as _PackageNotFoundError
from importlib.metadata import version as _version

from mytorch.energy.carbon import (
    GRID_INTENSITY,
    CarbonReport,
    CarbonTracker,
    carbon_grams,
    estimate,
    grid_intensity,
)
from mytorch.energy.count import CountReport, LayerCount, count
from mytorch.energy.gates import L0Gate
from mytorch.energy.monitor import EnergyMonitor, EnergyReport, LayerEnergy
from mytorch.energy.oneline import energy_line
from mytorch.energy.power import CpuPowerModel, RaplReader
from mytorch.energy.regularizers import (
    ActivationL1,
    FlopsLayer,
    activation_l1,
    expected_macs,
    group_lasso,
    l0_penalty,
    l1_penalty,
    l2_penalty,
    morphnet_flops_penalty,
)
from mytorch.energy.structure import flops_layers
from mytorch.energy.summary import summary
from mytorch.energy.tables import HOROWITZ_45NM, EnergyTable, eyeriss, get_table

try:
    __version__ = _version("mytorch-energy")  # the version lives in pyproject.toml only
except _PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"
