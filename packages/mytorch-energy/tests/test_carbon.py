"""Carbon estimates: RAPL reading on a fake powercap tree, the CPU power model and the arithmetic."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from mytorch.energy.carbon import (
    GRID_INTENSITY,
    CarbonReport,
    CarbonTracker,
    carbon_grams,
    estimate,
    grid_intensity,
)
from mytorch.energy.power import (
    CpuPowerModel,
    PeriodicSampler,
    RaplEnergyMeter,
    RaplReader,
    counter_delta,
)

MAX0 = 999_999_999  # package-0 counter range: wraps to 0 after this value
MAX1 = 262_143_999_938  # a real-looking range for package-1


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def _domain(path: Path, name: str, energy: int, max_range: int) -> Path:
    path.mkdir(parents=True)
    (path / "name").write_text(name + "\n")
    (path / "energy_uj").write_text(f"{energy}\n")
    (path / "max_energy_range_uj").write_text(f"{max_range}\n")
    return path


def _set(path: Path, energy: int) -> None:
    """Replace a counter atomically, as sysfs does, so a background read never sees half a write."""
    tmp = path / "energy_uj.tmp"
    tmp.write_text(f"{energy}\n")
    os.replace(tmp, path / "energy_uj")


@pytest.fixture
def sysfs(tmp_path: Path) -> dict[str, Path]:
    """A tree shaped like Linux: devices/virtual/powercap/intel-rapl/... plus class/powercap links.

    Two packages, each with core and dram subdomains whose counters must not be added again.
    """
    devices = tmp_path / "devices" / "virtual" / "powercap"
    control = devices / "intel-rapl"
    control.mkdir(parents=True)
    (control / "enabled").write_text("1\n")
    pkg0 = _domain(control / "intel-rapl:0", "package-0", 900_000_000, MAX0)
    pkg1 = _domain(control / "intel-rapl:1", "package-1", 1_000_000_000, MAX1)
    sub = {
        "intel-rapl:0:0": _domain(pkg0 / "intel-rapl:0:0", "core", 5_000, MAX0),
        "intel-rapl:0:1": _domain(pkg0 / "intel-rapl:0:1", "dram", 7_000, MAX0),
        "intel-rapl:1:0": _domain(pkg1 / "intel-rapl:1:0", "core", 11_000, MAX1),
    }
    klass = tmp_path / "class" / "powercap"
    klass.mkdir(parents=True)
    (klass / "intel-rapl").symlink_to(control)
    (klass / "intel-rapl:0").symlink_to(pkg0)
    (klass / "intel-rapl:1").symlink_to(pkg1)
    for name, path in sub.items():
        (klass / name).symlink_to(path)
    return {"class": klass, "devices": devices, "pkg0": pkg0, "pkg1": pkg1, **sub}


# --- RAPL discovery and reading ------------------------------------------------------------


def test_discovery_finds_packages_only_in_both_layouts(sysfs):
    for root in (sysfs["class"], sysfs["devices"], sysfs["devices"] / "intel-rapl"):
        reader = RaplReader(root)
        assert reader.names == ["package-0", "package-1"], root
        assert [d.max_energy_range_uj for d in reader.domains] == [MAX0, MAX1]
        assert RaplReader.available(root)


def test_read_returns_package_counters(sysfs):
    reader = RaplReader(sysfs["class"])
    assert reader.read() == {"package-0": 900_000_000, "package-1": 1_000_000_000}
    _set(sysfs["pkg1"], 1_000_000_123)
    assert reader.read()["package-1"] == 1_000_000_123


def test_flat_plain_directories_and_ordering(tmp_path):
    for index in (10, 2):
        _domain(tmp_path / f"intel-rapl:{index}", f"package-{index}", index, MAX0)
    _domain(tmp_path / "intel-rapl:2:0", "core", 1, MAX0)
    _domain(tmp_path / "intel-rapl-mmio:0", "package-0", 1, MAX0)  # same package, other path
    assert RaplReader(tmp_path).names == ["package-2", "package-10"]  # numeric order


def test_psys_is_skipped_next_to_packages(tmp_path):
    _domain(tmp_path / "intel-rapl:0", "package-0", 1, MAX0)
    _domain(tmp_path / "intel-rapl:1", "psys", 1, MAX0)  # whole platform: contains package-0
    assert RaplReader(tmp_path).names == ["package-0"]


def test_domain_without_max_range_is_skipped(tmp_path):
    _domain(tmp_path / "intel-rapl:0", "package-0", 1, MAX0)
    bad = _domain(tmp_path / "intel-rapl:1", "package-1", 1, MAX0)
    (bad / "max_energy_range_uj").unlink()
    assert RaplReader(tmp_path).names == ["package-0"]


def test_unavailable_when_missing_or_unreadable(tmp_path, sysfs):
    assert not RaplReader.available(tmp_path / "nope")
    assert RaplReader(tmp_path / "nope").domains == []
    # energy_uj that cannot be read as a file (a directory fails even for root)
    (sysfs["pkg1"] / "energy_uj").unlink()
    (sysfs["pkg1"] / "energy_uj").mkdir()
    assert not RaplReader.available(sysfs["class"])
    with pytest.raises(OSError):
        RaplReader(sysfs["class"]).read()


def test_garbage_counter_is_an_oserror(sysfs):
    (sysfs["pkg0"] / "energy_uj").write_text("n/a\n")
    with pytest.raises(OSError, match="not an integer"):
        RaplReader(sysfs["class"]).read()
    assert not RaplReader.available(sysfs["class"])


# --- wrap-around ------------------------------------------------------------------------------


def test_counter_delta_without_and_with_wrap():
    assert counter_delta(100, 350, 999) == 250
    assert counter_delta(900, 50, 999) == 150  # 99 up to 999, then 0..50 is 51 (+1 for 999->0)
    assert counter_delta(999, 0, 999) == 1
    assert counter_delta(5, 5, 999) == 0
    assert counter_delta(900_000_000, 100_000_000, MAX0) == 200_000_000
    with pytest.raises(ValueError, match="max_energy_range_uj"):
        counter_delta(1, 0, 0)


def test_meter_accumulates_across_several_wraps(sysfs):
    meter = RaplEnergyMeter(RaplReader(sysfs["class"]))
    meter.start()
    _set(sysfs["pkg0"], 100_000_000)  # wrapped: +200_000_000
    assert meter.sample() == pytest.approx(200.0)
    _set(sysfs["pkg0"], 950_000_000)  # +850_000_000
    _set(sysfs["pkg1"], 1_000_500_000)  # +500_000
    assert meter.sample() == pytest.approx(1050.5)
    _set(sysfs["pkg0"], 50_000_000)  # wrapped again: +100_000_000
    _set(sysfs["intel-rapl:0:0"], 10**9)  # subdomain counters are never read
    assert meter.sample() == pytest.approx(1150.5)
    assert meter.joules == pytest.approx(1150.5)
    assert meter.domain_joules == pytest.approx({"package-0": 1150.0, "package-1": 0.5})


def test_meter_needs_start_and_domains(tmp_path, sysfs):
    with pytest.raises(RuntimeError, match="before start"):
        RaplEnergyMeter(RaplReader(sysfs["class"])).sample()
    with pytest.raises(ValueError, match="no RAPL package domains"):
        RaplEnergyMeter(RaplReader(tmp_path / "nope"))


# --- tracker on the RAPL path ---------------------------------------------------------------


def test_tracker_rapl_exact_energy_and_carbon(sysfs):
    clock = FakeClock(100.0)
    tracker = CarbonTracker(rapl_root=sysfs["class"], clock=clock)
    assert tracker.uses_rapl
    tracker.start()
    _set(sysfs["pkg0"], 100_000_000)  # wrap: 200 J
    _set(sysfs["pkg1"], 4_400_000_000)  # 3400 J
    _set(sysfs["intel-rapl:0:1"], 999_999)  # dram subdomain: ignored
    clock.t = 136.0
    report = tracker.stop()
    assert report.energy_joules == pytest.approx(3600.0)
    assert report.energy_kwh == pytest.approx(0.001)
    assert report.seconds == pytest.approx(36.0)
    assert report.average_watts == pytest.approx(100.0)
    assert report.grams_co2 == pytest.approx(0.475)
    assert report.method == "RAPL (package-0, package-1)"
    assert report.region == "world" and report.intensity_g_per_kwh == 475.0
    assert tracker.report is report


def test_tracker_rapl_context_manager_with_country_and_pue(sysfs):
    with CarbonTracker(rapl_root=sysfs["class"], country="fr", pue=1.5, method="rapl") as t:
        _set(sysfs["pkg0"], 950_000_000)  # 50 J
        assert t.sample() == pytest.approx(50.0)
        _set(sysfs["pkg0"], 100_000_000)  # wrap: 150 J more
        _set(sysfs["pkg1"], 4_400_000_000)  # 3400 J
    report = t.report
    assert report.energy_joules == pytest.approx(3600.0)
    assert report.region == "FR" and report.intensity_g_per_kwh == 55.0
    assert report.grams_co2 == pytest.approx(0.001 * 1.5 * 55.0)


def test_tracker_background_sampler_sees_wraps(sysfs):
    tracker = CarbonTracker(rapl_root=sysfs["class"], sample_interval=0.001)
    tracker.start()
    sampler = tracker._sampler
    assert sampler is not None and sampler._thread.daemon

    def wait_for_samples(n: int) -> None:
        deadline = time.monotonic() + 5.0
        target = sampler.calls + n
        while sampler.calls < target:
            assert time.monotonic() < deadline, "background sampler did not run"
            time.sleep(0.001)

    wait_for_samples(2)
    _set(sysfs["pkg0"], 100_000_000)  # wrap: +200 J
    wait_for_samples(2)
    _set(sysfs["pkg0"], 950_000_000)  # +850 J
    wait_for_samples(2)
    _set(sysfs["pkg0"], 50_000_000)  # second wrap: +100 J, only seen because of the thread
    report = tracker.stop()
    assert report.energy_joules == pytest.approx(1150.0)
    assert not sampler._thread.is_alive()


def test_periodic_sampler_reports_errors_on_stop():
    def boom() -> None:
        raise OSError("counter vanished")

    sampler = PeriodicSampler(boom, 0.001)
    sampler.start()
    sampler._thread.join(timeout=5.0)
    with pytest.raises(RuntimeError, match="counter vanished"):
        sampler.stop()
    with pytest.raises(ValueError, match="positive"):
        PeriodicSampler(boom, 0)


# --- fallback and the CPU model -----------------------------------------------------------


def test_auto_falls_back_to_model_and_says_so(tmp_path):
    wall, cpu = FakeClock(), FakeClock()
    root = tmp_path / "no-powercap"
    tracker = CarbonTracker(rapl_root=root, tdp_watts=100.0, clock=wall, cpu_clock=cpu, cpu_count=4)
    assert not tracker.uses_rapl
    with tracker:
        wall.t, cpu.t = 10.0, 4.0  # 4 CPU-s over 10 s on 4 CPUs: utilization 0.1
    report = tracker.report
    assert report.average_watts == pytest.approx(10.0)
    assert report.energy_joules == pytest.approx(100.0)
    assert report.method == f"CPU model: TDP 100 W x utilization 0.1 (RAPL not readable at {root})"


def test_rapl_method_requires_counters(tmp_path):
    with pytest.raises(RuntimeError, match="no readable RAPL"):
        CarbonTracker(rapl_root=tmp_path, method="rapl")
    with pytest.raises(ValueError, match="watts"):
        CarbonTracker(rapl_root=tmp_path, method="rapl", watts=50.0)


def test_model_method_ignores_readable_rapl(sysfs):
    tracker = CarbonTracker(rapl_root=sysfs["class"], method="model", cpu_count=2)
    assert not tracker.uses_rapl
    assert "RAPL not readable" not in tracker.method_description()


def test_cpu_model_arithmetic_and_clamp():
    model = CpuPowerModel(tdp_watts=100.0, cpu_count=4)
    assert model.utilization(10.0, 20.0) == pytest.approx(0.5)
    assert model.average_watts(10.0, 20.0) == pytest.approx(50.0)
    assert model.utilization(10.0, 100.0) == 1.0  # clamped
    assert model.utilization(10.0, -1.0) == 0.0
    assert model.utilization(0.0, 1.0) == 0.0


def test_cpu_model_sample_with_injected_clocks():
    wall, cpu = FakeClock(50.0), FakeClock(3.0)
    model = CpuPowerModel(tdp_watts=80.0, clock=wall, cpu_clock=cpu, cpu_count=8)
    model.start()
    wall.t, cpu.t = 70.0, 11.0  # 8 CPU-s over 20 s on 8 CPUs: utilization 0.05
    sample = model.sample()
    assert sample.seconds == pytest.approx(20.0)
    assert sample.cpu_seconds == pytest.approx(8.0)
    assert sample.utilization == pytest.approx(0.05)
    assert sample.watts == pytest.approx(4.0)
    assert sample.joules == pytest.approx(80.0)
    assert model.describe() == "CPU model: TDP 80 W x utilization 0.05"


def test_cpu_model_default_tdp_is_per_cpu():
    model = CpuPowerModel(cpu_count=8)
    assert model.tdp_watts == pytest.approx(40.0)
    assert model.describe().startswith("CPU model: TDP 40 W (default 5 W x 8 CPUs) x utilization")


def test_cpu_model_bad_arguments():
    with pytest.raises(ValueError, match="not both"):
        CpuPowerModel(tdp_watts=10.0, watts=10.0)
    with pytest.raises(ValueError, match="tdp_watts"):
        CpuPowerModel(tdp_watts=-1.0)
    with pytest.raises(ValueError, match="cpu_count"):
        CpuPowerModel(cpu_count=0)
    with pytest.raises(RuntimeError, match="before start"):
        CpuPowerModel().sample()


def test_user_set_watts_tracker(sysfs):
    wall = FakeClock(0.0)
    # explicit watts wins over readable RAPL in auto mode
    tracker = CarbonTracker(rapl_root=sysfs["class"], watts=100.0, clock=wall, cpu_count=4)
    tracker.start()
    wall.t = 3600.0
    report = tracker.stop()
    assert report.method == "user-set power 100 W"
    assert report.energy_kwh == pytest.approx(0.1)
    assert report.grams_co2 == pytest.approx(47.5)


def test_tracker_state_errors(tmp_path):
    tracker = CarbonTracker(rapl_root=tmp_path, cpu_count=1)
    with pytest.raises(RuntimeError, match="before start"):
        tracker.stop()
    with pytest.raises(RuntimeError, match="before start"):
        tracker.sample()
    tracker.start()
    with pytest.raises(RuntimeError, match="already running"):
        tracker.start()
    assert isinstance(tracker.stop(), CarbonReport)
    assert not tracker.running


# --- carbon arithmetic and grid intensity --------------------------------------------------


def test_carbon_arithmetic_100w_for_an_hour():
    assert carbon_grams(0.1, 475.0) == pytest.approx(47.5, rel=1e-12)
    report = estimate(100.0, 3600.0)
    assert report.energy_joules == 360_000.0
    assert report.energy_kwh == pytest.approx(0.1, rel=1e-12)
    assert report.grams_co2 == pytest.approx(47.5, rel=1e-12)
    assert report.average_watts == pytest.approx(100.0)
    assert report.method == "user-set power 100 W"
    assert report.region == "world"


def test_pue_and_intensity_multiply():
    assert carbon_grams(2.0, 100.0, pue=1.5) == pytest.approx(300.0)
    assert estimate(100.0, 3600.0, pue=1.2).grams_co2 == pytest.approx(57.0)
    assert estimate(100.0, 3600.0, intensity=200.0).grams_co2 == pytest.approx(20.0)
    report = estimate(1000.0, 3600.0, country="SE")
    assert report.grams_co2 == pytest.approx(40.0) and report.region == "SE"


def test_country_lookup():
    assert grid_intensity("de") == grid_intensity("DE") == GRID_INTENSITY["DE"] == 380.0
    assert grid_intensity("World") == 475.0
    assert len(GRID_INTENSITY) >= 31
    for code in ("US", "CN", "IN", "DE", "FR", "GB", "JP", "CA", "AU", "BR", "SE", "NO", "PL"):
        assert 0 < GRID_INTENSITY[code] < 1000
    with pytest.raises(ValueError, match="unknown country 'XX'.*DE, DK"):
        grid_intensity("XX")


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="energy_kwh must be non-negative, got -1"):
        carbon_grams(-1.0)
    with pytest.raises(ValueError, match="pue .* must be >= 1.0, got 0.9"):
        carbon_grams(1.0, pue=0.9)
    with pytest.raises(ValueError, match="intensity_g_per_kwh"):
        carbon_grams(1.0, -5.0)
    with pytest.raises(ValueError, match="watts must be non-negative"):
        estimate(-1.0, 10.0)
    with pytest.raises(ValueError, match="seconds must be non-negative"):
        estimate(1.0, -10.0)
    with pytest.raises(ValueError, match="not both"):
        estimate(1.0, 1.0, country="DE", intensity=300.0)
    with pytest.raises(ValueError, match="unknown country"):
        CarbonTracker(country="Atlantis")
    with pytest.raises(ValueError, match="pue"):
        CarbonTracker(pue=0.5)
    with pytest.raises(ValueError, match="method must be one of"):
        CarbonTracker(method="gpu")
    with pytest.raises(ValueError, match="sample_interval"):
        CarbonTracker(sample_interval=0.0)
    with pytest.raises(ValueError, match="non-negative"):
        carbon_grams(float("nan"))


def test_report_json_round_trip_and_str():
    report = estimate(100.0, 3600.0, country="GB", pue=1.1)
    data = json.loads(json.dumps(report.to_dict()))
    assert CarbonReport(**data) == report
    assert set(data) == {
        "seconds",
        "energy_joules",
        "energy_kwh",
        "pue",
        "intensity_g_per_kwh",
        "region",
        "grams_co2",
        "method",
        "average_watts",
    }
    text = str(report)
    assert "\n" not in text
    assert "energy 0.1 kWh [user-set power 100 W]" in text
    assert "PUE 1.1" in text and "grid 240 g/kWh (GB)" in text and "-> 26.4 g CO2e" in text
