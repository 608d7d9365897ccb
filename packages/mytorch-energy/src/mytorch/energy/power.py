"""Power sources for carbon estimates: RAPL energy counters and a CPU-utilization power model.

Two ways to get the energy a run used:

* :class:`RaplReader` and :class:`RaplEnergyMeter` read the RAPL energy counters that Linux
  exposes under ``/sys/class/powercap`` (Intel, and AMD Zen CPUs through the same
  ``intel-rapl`` names). The counters measure whole CPU packages, so they include the power of
  every other process on the machine. Since 2020 most kernels make ``energy_uj`` readable by
  root only; :meth:`RaplReader.available` checks that a read actually works.
* :class:`CpuPowerModel` estimates power as ``TDP x utilization``, where utilization is this
  process's CPU time over ``wall time x os.cpu_count()``. It ignores idle power and memory,
  so it is a rough figure; a user who knows the draw can pass constant ``watts`` instead.

Example::

    reader = RaplReader()
    if RaplReader.available():
        meter = RaplEnergyMeter(reader)
        meter.start()
        ...  # work
        joules = meter.sample()
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_WATTS_PER_CPU",
    "CpuPowerModel",
    "PeriodicSampler",
    "PowerSample",
    "RaplDomain",
    "RaplEnergyMeter",
    "RaplReader",
    "counter_delta",
]

DEFAULT_POWERCAP_ROOT = "/sys/class/powercap"

# Default TDP per logical CPU when the user gives neither ``tdp_watts`` nor ``watts``. Current
# parts range from about 2-4 W per hardware thread (large servers) to 5-8 W (desktops); 5 W is a
# middle figure, and it scales with the machine instead of charging a whole 85 W chip to a
# 2-vCPU virtual machine. Pass ``tdp_watts`` with your processor's figure for a better estimate.
DEFAULT_WATTS_PER_CPU = 5.0

_PACKAGE_DIR = re.compile(r"^intel-rapl:(\d+)$")


def counter_delta(prev_uj: int, now_uj: int, max_energy_range_uj: int) -> int:
    """Microjoules counted between two reads of a RAPL counter that wraps after ``max_energy_range_uj``.

    A counter runs from 0 to ``max_energy_range_uj`` and then starts again at 0, so a reading
    smaller than the previous one means it wrapped once: the delta is taken modulo
    ``max_energy_range_uj + 1``. A counter that wraps more than once between two reads cannot be
    told apart from one that wrapped once: sample more often than the wrap period (minutes at
    full load) to avoid it.

    >>> counter_delta(900, 50, 999)
    150
    """
    if max_energy_range_uj <= 0:
        raise ValueError(f"max_energy_range_uj must be positive, got {max_energy_range_uj}")
    if now_uj >= prev_uj:
        return now_uj - prev_uj
    return (now_uj - prev_uj) % (max_energy_range_uj + 1)


@dataclass(frozen=True)
class RaplDomain:
    """One top-level RAPL domain (a CPU package): its label, directory and counter range."""

    name: str
    path: Path
    max_energy_range_uj: int

    def read_uj(self) -> int:
        """The current counter value in microjoules (raises ``OSError`` when unreadable)."""
        text = (self.path / "energy_uj").read_text().strip()
        try:
            return int(text)
        except ValueError as exc:
            raise OSError(f"{self.path / 'energy_uj'} holds {text!r}, not an integer") from exc


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


class RaplReader:
    """Finds the top-level RAPL package domains under a powercap directory and reads them.

    On a real system ``/sys/class/powercap`` holds links ``intel-rapl:0``, ``intel-rapl:0:0``,
    ``intel-rapl:1``, ... and an ``intel-rapl`` control-type directory that nests the same
    domains (``intel-rapl/intel-rapl:0/intel-rapl:0:0``). Only ``intel-rapl:N`` (one index) is
    a package; ``intel-rapl:N:M`` subdomains (core, uncore, dram) are parts of a package or
    overlap it and are skipped so nothing is counted twice. Both layouts are accepted and a
    domain reached by both is read once. A ``psys`` domain (whole platform, which contains the
    package) is skipped when package domains exist. ``intel-rapl-mmio`` domains, which repeat
    package-0 through another interface, are not matched.

    Domains whose ``max_energy_range_uj`` cannot be read are skipped: without it a wrap-around
    cannot be corrected.
    """

    def __init__(self, root: str | os.PathLike[str] = DEFAULT_POWERCAP_ROOT) -> None:
        self.root = Path(root)
        self.domains: list[RaplDomain] = self._discover()

    def _discover(self) -> list[RaplDomain]:
        candidates: list[tuple[int, Path]] = []
        for parent in (self.root, self.root / "intel-rapl"):
            try:
                entries = list(parent.iterdir())
            except OSError:
                continue
            for entry in entries:
                match = _PACKAGE_DIR.match(entry.name)
                if match and entry.is_dir():
                    candidates.append((int(match.group(1)), entry))
        seen: set[str] = set()
        domains: list[RaplDomain] = []
        for _, path in sorted(candidates, key=lambda item: (item[0], str(item[1]))):
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            max_text = _read_text(path / "max_energy_range_uj")
            if max_text is None or not max_text.isdigit() or int(max_text) <= 0:
                continue
            name = _read_text(path / "name") or path.name
            domains.append(RaplDomain(name, path, int(max_text)))
        if any(d.name.startswith("package") for d in domains):
            domains = [d for d in domains if d.name != "psys"]
        return _unique_names(domains)

    @classmethod
    def available(cls, root: str | os.PathLike[str] = DEFAULT_POWERCAP_ROOT) -> bool:
        """True when at least one package domain exists under ``root`` and all of them read."""
        reader = cls(root)
        if not reader.domains:
            return False
        try:
            reader.read()
        except OSError:
            return False
        return True

    @property
    def names(self) -> list[str]:
        """Domain labels, e.g. ``["package-0", "package-1"]``."""
        return [d.name for d in self.domains]

    def read(self) -> dict[str, int]:
        """Current counters in microjoules, keyed by domain label; ``OSError`` if one is unreadable."""
        return {d.name: d.read_uj() for d in self.domains}


def _unique_names(domains: list[RaplDomain]) -> list[RaplDomain]:
    counts: dict[str, int] = {}
    for d in domains:
        counts[d.name] = counts.get(d.name, 0) + 1
    return [
        RaplDomain(f"{d.name} ({d.path.name})", d.path, d.max_energy_range_uj)
        if counts[d.name] > 1
        else d
        for d in domains
    ]


class RaplEnergyMeter:
    """Accumulates the energy of a :class:`RaplReader`'s domains across counter wrap-arounds.

    Call :meth:`start`, then :meth:`sample` at least once per wrap period (each call adds the
    energy since the previous one); :attr:`joules` is the total so far. Thread-safe, so a
    :class:`PeriodicSampler` may call :meth:`sample` while the main thread does too.
    """

    def __init__(self, reader: RaplReader) -> None:
        if not reader.domains:
            raise ValueError(f"no RAPL package domains found under {reader.root}")
        self.reader = reader
        self._lock = threading.Lock()
        self._last: dict[str, int] | None = None
        self._uj: dict[str, int] = {}

    def start(self) -> None:
        """Take the baseline reading and reset the total to zero."""
        with self._lock:
            self._last = self.reader.read()
            self._uj = dict.fromkeys(self._last, 0)

    def sample(self) -> float:
        """Read the counters, add the energy since the last read, return the total in joules."""
        with self._lock:
            if self._last is None:
                raise RuntimeError("RaplEnergyMeter.sample() called before start()")
            now = self.reader.read()
            for domain in self.reader.domains:
                self._uj[domain.name] += counter_delta(
                    self._last[domain.name], now[domain.name], domain.max_energy_range_uj
                )
            self._last = now
            return sum(self._uj.values()) / 1e6

    @property
    def joules(self) -> float:
        """Energy accumulated up to the last sample, all domains together."""
        with self._lock:
            return sum(self._uj.values()) / 1e6

    @property
    def domain_joules(self) -> dict[str, float]:
        """Energy accumulated up to the last sample, per domain."""
        with self._lock:
            return {name: uj / 1e6 for name, uj in self._uj.items()}


class PeriodicSampler:
    """Calls ``fn`` every ``interval`` seconds on a daemon thread until :meth:`stop`.

    An exception from ``fn`` ends the thread; :meth:`stop` re-raises it in the caller.
    """

    def __init__(self, fn: Callable[[], object], interval: float) -> None:
        if not interval > 0:
            raise ValueError(f"sample interval must be positive seconds, got {interval}")
        self.fn = fn
        self.interval = float(interval)
        self.calls = 0
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="rapl-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.fn()
            except BaseException as exc:  # handed to the caller by stop()
                self._error = exc
                return
            self.calls += 1

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it; re-raise an error that ended it early."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"background power sampling failed: {error}") from error


@dataclass(frozen=True)
class PowerSample:
    """What :class:`CpuPowerModel` estimates for the interval since its start."""

    seconds: float
    cpu_seconds: float
    utilization: float
    watts: float
    joules: float


class CpuPowerModel:
    """Estimates average power from this process's CPU time: ``tdp_watts x utilization``.

    ``utilization = process CPU seconds / (wall seconds x cpu_count)``, clamped to [0, 1].
    ``tdp_watts`` defaults to ``DEFAULT_WATTS_PER_CPU`` (5 W) per logical CPU. When ``watts``
    is given, that constant power is used instead and CPU time is ignored. The clocks are
    injectable so that tests are deterministic.

    >>> model = CpuPowerModel(tdp_watts=100.0, cpu_count=4)
    >>> model.average_watts(wall_seconds=10.0, cpu_seconds=20.0)
    50.0
    """

    def __init__(
        self,
        tdp_watts: float | None = None,
        watts: float | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        cpu_clock: Callable[[], float] = time.process_time,
        cpu_count: int | None = None,
    ) -> None:
        if tdp_watts is not None and watts is not None:
            raise ValueError(
                "pass either tdp_watts (scaled by utilization) or watts (constant power), "
                f"not both; got tdp_watts={tdp_watts}, watts={watts}"
            )
        for label, value in (("tdp_watts", tdp_watts), ("watts", watts)):
            if value is not None and not value >= 0:
                raise ValueError(f"{label} must be a non-negative number of watts, got {value}")
        count = (os.cpu_count() or 1) if cpu_count is None else cpu_count
        if count < 1:
            raise ValueError(f"cpu_count must be at least 1, got {count}")
        self.cpu_count = int(count)
        self.tdp_is_default = tdp_watts is None
        self.tdp_watts = DEFAULT_WATTS_PER_CPU * self.cpu_count if tdp_watts is None else tdp_watts
        self.watts = watts
        self.clock = clock
        self.cpu_clock = cpu_clock
        self._start: tuple[float, float] | None = None
        self.last: PowerSample | None = None

    def utilization(self, wall_seconds: float, cpu_seconds: float) -> float:
        """Share of the machine's CPUs this process kept busy, clamped to [0, 1]."""
        if wall_seconds <= 0:
            return 0.0
        return min(1.0, max(0.0, cpu_seconds / (wall_seconds * self.cpu_count)))

    def average_watts(self, wall_seconds: float, cpu_seconds: float) -> float:
        """Estimated average power over an interval (the constant ``watts`` if one was set)."""
        if self.watts is not None:
            return float(self.watts)
        return self.tdp_watts * self.utilization(wall_seconds, cpu_seconds)

    def start(self) -> None:
        """Record the wall and CPU clocks at the start of the interval."""
        self._start = (self.clock(), self.cpu_clock())
        self.last = None

    def sample(self) -> PowerSample:
        """Estimate for the interval from :meth:`start` to now (the interval keeps running)."""
        if self._start is None:
            raise RuntimeError("CpuPowerModel.sample() called before start()")
        wall = max(0.0, self.clock() - self._start[0])
        cpu = max(0.0, self.cpu_clock() - self._start[1])
        watts = self.average_watts(wall, cpu)
        self.last = PowerSample(wall, cpu, self.utilization(wall, cpu), watts, watts * wall)
        return self.last

    def describe(self, sample: PowerSample | None = None) -> str:
        """The method string for a report, e.g. ``"CPU model: TDP 80 W x utilization 0.43"``."""
        if self.watts is not None:
            return f"user-set power {self.watts:g} W"
        sample = sample if sample is not None else self.last
        tdp = f"TDP {self.tdp_watts:g} W"
        if self.tdp_is_default:
            tdp += f" (default {DEFAULT_WATTS_PER_CPU:g} W x {self.cpu_count} CPUs)"
        util = "utilization n/a" if sample is None else f"utilization {sample.utilization:.3g}"
        return f"CPU model: {tdp} x {util}"
