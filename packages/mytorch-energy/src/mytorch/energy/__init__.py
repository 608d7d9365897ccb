"""mytorch.energy: compute counting, energy audit, carbon estimates and energy regularizers."""

from mytorch.energy.carbon import (
    GRID_INTENSITY,
    CarbonReport,
    CarbonTracker,
    carbon_grams,
    estimate,
    grid_intensity,
)
from mytorch.energy.count import CountReport, LayerCount, count
from mytorch.energy.monitor import EnergyMonitor, EnergyReport, LayerEnergy
from mytorch.energy.power import CpuPowerModel, RaplReader
from mytorch.energy.summary import summary
from mytorch.energy.tables import HOROWITZ_45NM, EnergyTable, eyeriss, get_table
