"""Carbon estimates for a training run: energy x PUE x grid carbon intensity.

Energy comes from the RAPL counters when ``/sys/class/powercap/intel-rapl*`` is readable, and
otherwise from a CPU power model (``TDP x utilization``, or a constant power the user sets);
see :mod:`mytorch.energy.power`. The report always says which method produced the figure.

Example::

    with CarbonTracker(country="DE") as tracker:
        train()
    print(tracker.report)  # one line: seconds, energy, method, PUE, grid, grams CO2e

    estimate(watts=100, seconds=3600).grams_co2  # 47.5 (g, world-average grid)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from mytorch.energy.power import (
    DEFAULT_POWERCAP_ROOT,
    CpuPowerModel,
    PeriodicSampler,
    RaplEnergyMeter,
    RaplReader,
)

__all__ = [
    "DEFAULT_INTENSITY",
    "GRID_INTENSITY",
    "CarbonReport",
    "CarbonTracker",
    "carbon_grams",
    "estimate",
    "grid_intensity",
]

JOULES_PER_KWH = 3.6e6

#: Grid carbon intensity in gCO2e per kWh of electricity, by ISO-3166 alpha-2 country code,
#: plus ``"world"``. These are approximate annual averages rounded to a few significant figures,
#: based on Ember's yearly electricity data (lifecycle emissions, 2022-2023, as also published
#: by Our World in Data) and IEA figures; "world" is the 475 g/kWh average that IEA reported
#: and that carbon calculators commonly use. Real intensity varies by year, region within a
#: country, season and hour: for an accurate figure, pass your own ``intensity``.
GRID_INTENSITY: dict[str, float] = {
    "world": 475.0,
    "AR": 355.0,  # Argentina
    "AT": 110.0,  # Austria
    "AU": 550.0,  # Australia
    "BE": 140.0,  # Belgium
    "BR": 100.0,  # Brazil
    "CA": 130.0,  # Canada
    "CH": 35.0,  # Switzerland
    "CL": 290.0,  # Chile
    "CN": 580.0,  # China
    "DE": 380.0,  # Germany
    "DK": 150.0,  # Denmark
    "EG": 570.0,  # Egypt
    "ES": 175.0,  # Spain
    "FI": 80.0,  # Finland
    "FR": 55.0,  # France
    "GB": 240.0,  # United Kingdom
    "ID": 675.0,  # Indonesia
    "IE": 280.0,  # Ireland
    "IN": 710.0,  # India
    "IS": 30.0,  # Iceland
    "IT": 330.0,  # Italy
    "JP": 485.0,  # Japan
    "KR": 430.0,  # South Korea
    "MX": 410.0,  # Mexico
    "NL": 270.0,  # Netherlands
    "NO": 30.0,  # Norway
    "NZ": 110.0,  # New Zealand
    "PL": 660.0,  # Poland
    "PT": 165.0,  # Portugal
    "RU": 440.0,  # Russia
    "SA": 700.0,  # Saudi Arabia
    "SE": 40.0,  # Sweden
    "SG": 470.0,  # Singapore
    "TR": 465.0,  # Turkey
    "US": 370.0,  # United States
    "ZA": 710.0,  # South Africa
}

DEFAULT_INTENSITY = GRID_INTENSITY["world"]

_METHODS = ("auto", "rapl", "model")


def grid_intensity(country: str) -> float:
    """Grid intensity (gCO2e/kWh) for an ISO-3166 alpha-2 code or ``"world"``, any case.

    >>> grid_intensity("fr")
    55.0
    """
    key = _region_key(country)
    return GRID_INTENSITY[key]


def _region_key(country: str) -> str:
    if not isinstance(country, str):
        raise TypeError(f"country must be a string code such as 'DE', got {type(country).__name__}")
    key = "world" if country.strip().lower() == "world" else country.strip().upper()
    if key not in GRID_INTENSITY:
        codes = ", ".join(sorted(GRID_INTENSITY))
        raise ValueError(
            f"unknown country {country!r} for grid intensity; known codes: {codes}. "
            "Pass intensity=<gCO2e per kWh> for any other region."
        )
    return key


def _resolve_region(country: str | None, intensity: float | None) -> tuple[str, float]:
    if country is not None and intensity is not None:
        raise ValueError(
            f"pass either country ({country!r}) or intensity ({intensity}), not both: "
            "intensity is the gCO2e/kWh figure that country would select"
        )
    if intensity is not None:
        if not intensity >= 0:
            raise ValueError(f"intensity must be non-negative gCO2e/kWh, got {intensity}")
        return "user-set", float(intensity)
    if country is not None:
        key = _region_key(country)
        return key, GRID_INTENSITY[key]
    return "world", DEFAULT_INTENSITY


def _check_pue(pue: float) -> float:
    if not pue >= 1.0:
        raise ValueError(f"pue (power usage effectiveness) must be >= 1.0, got {pue}")
    return float(pue)


def carbon_grams(
    energy_kwh: float, intensity_g_per_kwh: float = DEFAULT_INTENSITY, pue: float = 1.0
) -> float:
    """Grams of CO2e for ``energy_kwh`` of IT energy: ``energy_kwh x pue x intensity``.

    >>> round(carbon_grams(0.1), 6)  # 100 W for one hour on the world-average grid
    47.5
    """
    if not energy_kwh >= 0:
        raise ValueError(f"energy_kwh must be non-negative, got {energy_kwh}")
    if not intensity_g_per_kwh >= 0:
        raise ValueError(f"intensity_g_per_kwh must be non-negative, got {intensity_g_per_kwh}")
    return energy_kwh * _check_pue(pue) * intensity_g_per_kwh


@dataclass
class CarbonReport:
    """The result of a carbon estimate.

    ``energy_joules``/``energy_kwh`` are the energy measured or modelled for the computer;
    ``grams_co2 = energy_kwh x pue x intensity_g_per_kwh``. ``method`` says where the energy
    came from: ``"RAPL (package-0, package-1)"``, ``"CPU model: TDP 80 W ... x utilization
    0.43"`` or ``"user-set power 100 W"``.
    """

    seconds: float
    energy_joules: float
    energy_kwh: float
    pue: float
    intensity_g_per_kwh: float
    region: str
    grams_co2: float
    method: str
    average_watts: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serializable dict of all fields."""
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.seconds:.4g} s at {self.average_watts:.4g} W: "
            f"energy {self.energy_kwh:.4g} kWh [{self.method}], PUE {self.pue:g}, "
            f"grid {self.intensity_g_per_kwh:g} g/kWh ({self.region}) "
            f"-> {self.grams_co2:.4g} g CO2e"
        )


def _make_report(
    seconds: float, joules: float, method: str, region: str, intensity: float, pue: float
) -> CarbonReport:
    kwh = joules / JOULES_PER_KWH
    return CarbonReport(
        seconds=float(seconds),
        energy_joules=float(joules),
        energy_kwh=kwh,
        pue=pue,
        intensity_g_per_kwh=intensity,
        region=region,
        grams_co2=carbon_grams(kwh, intensity, pue),
        method=method,
        average_watts=float(joules / seconds) if seconds > 0 else 0.0,
    )


def estimate(
    watts: float,
    seconds: float,
    *,
    country: str | None = None,
    intensity: float | None = None,
    pue: float = 1.0,
) -> CarbonReport:
    """Carbon of running at a constant ``watts`` for ``seconds``, without measuring anything.

    >>> round(estimate(100, 3600).grams_co2, 6)
    47.5
    """
    if not watts >= 0:
        raise ValueError(f"watts must be non-negative, got {watts}")
    if not seconds >= 0:
        raise ValueError(f"seconds must be non-negative, got {seconds}")
    region, g_per_kwh = _resolve_region(country, intensity)
    return _make_report(
        seconds, watts * seconds, f"user-set power {watts:g} W", region, g_per_kwh, _check_pue(pue)
    )


class CarbonTracker:
    """Measures or models the energy of a block of work and turns it into grams of CO2e.

    ``method``: ``"auto"`` uses RAPL when its counters under ``rapl_root`` are readable and the
    CPU power model otherwise; ``"rapl"`` requires RAPL; ``"model"`` always uses the model. An
    explicit ``watts`` (constant power) selects the model in ``"auto"`` mode too, since the
    user has said what the draw is. RAPL measures whole CPU packages, including other
    processes; the model charges only this process's CPU time. ``sample_interval`` (seconds)
    starts a background thread that samples RAPL, so counters cannot wrap twice unseen during
    long runs; :meth:`sample` may also be called by hand (e.g. once per epoch).

    Example::

        with CarbonTracker(country="FR", pue=1.2) as tracker:
            train()
        tracker.report.grams_co2
    """

    def __init__(
        self,
        *,
        country: str | None = None,
        intensity: float | None = None,
        pue: float = 1.0,
        watts: float | None = None,
        tdp_watts: float | None = None,
        rapl_root: str | os.PathLike[str] = DEFAULT_POWERCAP_ROOT,
        method: str = "auto",
        sample_interval: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.process_time,
        cpu_count: int | None = None,
    ) -> None:
        if method not in _METHODS:
            raise ValueError(f"method must be one of {', '.join(_METHODS)}; got {method!r}")
        if sample_interval is not None and not sample_interval > 0:
            raise ValueError(f"sample_interval must be positive seconds, got {sample_interval}")
        self.region, self.intensity = _resolve_region(country, intensity)
        self.pue = _check_pue(pue)
        self.clock = clock
        self.sample_interval = sample_interval
        self.report: CarbonReport | None = None
        self._meter: RaplEnergyMeter | None = None
        self._model: CpuPowerModel | None = None
        self._note = ""
        self._sampler: PeriodicSampler | None = None
        self._running = False
        self._t0 = 0.0

        if method == "rapl" and (watts is not None or tdp_watts is not None):
            raise ValueError(
                "method='rapl' measures energy, so watts/tdp_watts do not apply; "
                f"got watts={watts}, tdp_watts={tdp_watts}"
            )
        wants_rapl = method == "rapl" or (method == "auto" and watts is None)
        use_rapl = wants_rapl and RaplReader.available(rapl_root)  # one probe of the counters
        if method == "rapl" and not use_rapl:
            raise RuntimeError(
                f"method='rapl' but no readable RAPL package counters under {rapl_root} "
                "(energy_uj is often root-only); use method='auto' or 'model'"
            )
        if use_rapl:
            self._meter = RaplEnergyMeter(RaplReader(rapl_root))
        else:
            self._model = CpuPowerModel(
                tdp_watts, watts, clock=clock, cpu_clock=cpu_clock, cpu_count=cpu_count
            )
            if method == "auto" and watts is None:
                self._note = f" (RAPL not readable at {rapl_root})"

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._running

    @property
    def uses_rapl(self) -> bool:
        """True when this tracker measures with RAPL, False when it uses the power model."""
        return self._meter is not None

    def method_description(self) -> str:
        """The method string the report will carry."""
        if self._meter is not None:
            return f"RAPL ({', '.join(self._meter.reader.names)})"
        assert self._model is not None
        return self._model.describe() + self._note

    def start(self) -> CarbonTracker:
        """Begin measuring; returns ``self``."""
        if self.running:
            raise RuntimeError("CarbonTracker.start() called while already running")
        self.report = None
        if self._meter is not None:
            self._meter.start()
            self._t0 = self.clock()
            if self.sample_interval is not None:
                self._sampler = PeriodicSampler(self._meter.sample, self.sample_interval)
                self._sampler.start()
        else:
            assert self._model is not None
            self._model.start()
        self._running = True
        return self

    def sample(self) -> float:
        """Energy in joules from :meth:`start` to now (also folds in RAPL counter progress)."""
        if not self.running:
            raise RuntimeError("CarbonTracker.sample() called before start()")
        if self._meter is not None:
            return self._meter.sample()
        assert self._model is not None
        return self._model.sample().joules

    def stop(self) -> CarbonReport:
        """Stop measuring and return (and keep in :attr:`report`) the carbon report."""
        if not self._running:
            raise RuntimeError("CarbonTracker.stop() called before start()")
        try:
            if self._sampler is not None:
                sampler, self._sampler = self._sampler, None
                sampler.stop()
            if self._meter is not None:
                joules = self._meter.sample()
                seconds = max(0.0, self.clock() - self._t0)
            else:
                assert self._model is not None
                power = self._model.sample()
                joules, seconds = power.joules, power.seconds
        finally:
            self._running = False
        self.report = _make_report(
            seconds, joules, self.method_description(), self.region, self.intensity, self.pue
        )
        return self.report

    def __enter__(self) -> CarbonTracker:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
