"""Energy cost tables: picojoules per arithmetic operation and per 32-bit word moved.

The default is Horowitz (ISSCC 2014, "Computing's energy problem"), 45 nm: an fp32 multiply
3.7 pJ, an fp32 add 0.9 pJ, a 32-bit word from a small on-chip SRAM 5 pJ, from DRAM 640 pJ.
``eyeriss()`` gives the Eyeriss (Chen et al., ISCA 2016) costs normalized to one MAC:
register file 1x, DRAM 200x, scaled by the energy of one MAC.

>>> HOROWITZ_45NM.mac_pj
4.6
>>> eyeriss(mac_pj=1.0).dram_pj
200.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class EnergyTable:
    """Costs in picojoules: ``local_pj`` and ``dram_pj`` per 32-bit word accessed."""

    name: str
    mult_pj: float
    add_pj: float
    local_pj: float  # on-chip memory next to the arithmetic (SRAM, register file)
    dram_pj: float
    source: str = "user table"

    def __post_init__(self) -> None:
        for field_name in ("mult_pj", "add_pj", "local_pj", "dram_pj"):
            value = getattr(self, field_name)
            if not value >= 0:
                raise ValueError(f"EnergyTable {field_name} must be >= 0 pJ, got {value}")

    @property
    def mac_pj(self) -> float:
        """One multiply-accumulate: a multiply and an add."""
        return round(self.mult_pj + self.add_pj, 12)

    def to_dict(self) -> dict:
        return asdict(self)


HOROWITZ_45NM = EnergyTable(
    "horowitz-45nm",
    mult_pj=3.7,
    add_pj=0.9,
    local_pj=5.0,
    dram_pj=640.0,
    source="Horowitz, ISSCC 2014, 45 nm: fp32 mult 3.7 pJ, fp32 add 0.9 pJ, "
    "SRAM 5 pJ and DRAM 640 pJ per 32-bit word",
)


def eyeriss(mac_pj: float = HOROWITZ_45NM.mac_pj) -> EnergyTable:
    """Eyeriss's normalized costs (MAC 1, register file 1, DRAM 200) times ``mac_pj``."""
    share = HOROWITZ_45NM.mult_pj / HOROWITZ_45NM.mac_pj
    return EnergyTable(
        "eyeriss",
        mult_pj=mac_pj * share,
        add_pj=mac_pj * (1 - share),
        local_pj=mac_pj * 1.0,
        dram_pj=mac_pj * 200.0,
        source=f"Eyeriss (Chen et al., ISCA 2016) normalized costs: MAC 1x, register file 1x, "
        f"DRAM 200x, with 1x = {mac_pj:g} pJ",
    )


TABLES = {"horowitz-45nm": HOROWITZ_45NM, "eyeriss": eyeriss()}


def get_table(table: str | EnergyTable | dict) -> EnergyTable:
    """A table by name ('horowitz-45nm', 'eyeriss'), an EnergyTable, or a dict of its fields."""
    if isinstance(table, EnergyTable):
        return table
    if isinstance(table, dict):
        return EnergyTable(**{"name": "user", **table})
    if table in TABLES:
        return TABLES[table]
    raise ValueError(
        f"unknown energy table {table!r}; expected one of {sorted(TABLES)}, "
        "an EnergyTable or a dict of its fields"
    )
