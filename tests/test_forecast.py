"""Weather forecasts: read as they are, completed the documented way (decomposition,
typical-year stand-ins, flagged), and read without pvlib when nothing needs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest

from pecopt.errors import DataError
from pecopt.ingest.forecast import FORECAST_COLUMNS, read_forecast
from pecopt.ingest.weather import WEATHER_COLUMNS, typical_year

SITE = {"latitude": 60.2166, "longitude": 24.7103, "altitude": 20.0}
INDEX = pd.date_range("2025-05-10T00:00Z", periods=96, freq="15min", name="timestamp")


def _write(folder: Path, frame: pd.DataFrame, name: str = "fc.csv") -> Path:
    out = frame.copy()
    out.index = pd.DatetimeIndex(out.index).strftime("%Y-%m-%dT%H:%MZ")
    path = folder / name
    out.rename_axis("timestamp").to_csv(path)
    return path


def test_columns_are_the_weather_columns() -> None:
    assert FORECAST_COLUMNS == WEATHER_COLUMNS


def test_a_full_forecast_is_read_as_it_is(tmp_path: Path) -> None:
    wx = typical_year(INDEX, SITE["latitude"], SITE["longitude"], SITE["altitude"])
    renamed = wx.rename(columns={"ghi_w_m2": "GHI", "temp_air_c": "T"})
    path = _write(tmp_path, renamed)
    fc = read_forecast(path, INDEX, **SITE, columns={"ghi_w_m2": "GHI", "temp_air_c": "T"})
    assert fc.notes == [] and not fc.filled.any()
    np.testing.assert_allclose(fc.frame.to_numpy(), wx.to_numpy(), atol=1e-9)


def test_an_hourly_forecast_holds_within_the_hour(tmp_path: Path) -> None:
    hours = pd.date_range("2025-05-10T00:00Z", periods=24, freq="1h")
    frame = pd.DataFrame(
        {c: np.arange(24.0) + k for k, c in enumerate(FORECAST_COLUMNS)}, index=hours
    )
    fc = read_forecast(_write(tmp_path, frame), INDEX, **SITE)
    np.testing.assert_array_equal(
        fc.frame["temp_air_c"].to_numpy(), np.repeat(np.arange(24.0) + 3, 4)
    )


def test_ghi_only_is_decomposed_and_closes(tmp_path: Path) -> None:
    wx = typical_year(INDEX, SITE["latitude"], SITE["longitude"], SITE["altitude"])
    path = _write(tmp_path, wx[["ghi_w_m2", "temp_air_c", "wind_speed_m_s"]])
    fc = read_forecast(path, INDEX, **SITE)
    assert fc.notes == ["weather forecast: DNI and DHI from GHI by the Erbs decomposition"]
    mid = INDEX + pd.Timedelta("7.5min")
    zen = pvlib.solarposition.get_solarposition(mid, SITE["latitude"], SITE["longitude"], 20.0)
    cosz = np.cos(np.radians(zen["zenith"].to_numpy()))
    f = fc.frame
    day = (cosz > 0.1) & (f["ghi_w_m2"].to_numpy() > 10)
    np.testing.assert_allclose(
        (f["dni_w_m2"] * cosz + f["dhi_w_m2"]).to_numpy()[day], f["ghi_w_m2"].to_numpy()[day],
        rtol=1e-6,
    )  # fmt: skip
    assert (f[["dni_w_m2", "dhi_w_m2"]].to_numpy() >= 0).all()


def test_gaps_and_missing_columns(tmp_path: Path) -> None:
    wx = typical_year(INDEX, SITE["latitude"], SITE["longitude"], SITE["altitude"])
    path = _write(tmp_path, wx.drop(columns=["wind_speed_m_s"]).iloc[:60])  # 15 h, no wind
    with pytest.raises(DataError, match="wind_speed_m_s: missing column"):
        read_forecast(path, INDEX, **SITE)
    fc = read_forecast(path, INDEX, **SITE, fill=True)
    assert fc.filled.all()  # the wind column comes from the typical year at every step
    assert any("missing for 36 of 96 steps" in n for n in fc.notes)
    assert any("no wind_speed_m_s column" in n for n in fc.notes)
    np.testing.assert_allclose(fc.frame.to_numpy(), wx.to_numpy(), atol=1e-9)  # same source
    path = _write(tmp_path, wx.iloc[:60], "part.csv")
    with pytest.raises(DataError, match="36 of 96 steps missing"):
        read_forecast(path, INDEX, **SITE)
    with pytest.raises(DataError, match="GHI: missing column"):
        read_forecast(path, INDEX, **SITE, columns={"ghi_w_m2": "GHI"})


def test_reading_a_full_forecast_does_not_import_pvlib(tmp_path: Path) -> None:
    wx = typical_year(INDEX, SITE["latitude"], SITE["longitude"], SITE["altitude"])
    path = _write(tmp_path, wx)
    code = (
        "import sys, pandas as pd\n"
        "from pecopt.ingest.forecast import read_forecast\n"
        f"idx = pd.date_range('2025-05-10T00:00Z', periods=96, freq='15min')\n"
        f"read_forecast({str(path)!r}, idx, latitude=60.2, longitude=24.7, altitude=20)\n"
        "print(sorted(m for m in ('pvlib', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_scenario_with_a_forecast_must_be_covered_outside_dispatch(tmp_path: Path) -> None:
    """`pecopt solve` reads a forecast strictly (only `pecopt dispatch` fills gaps)."""
    from pecopt.ingest.district import ingest
    from pecopt.scenario.schema import Scenario

    wx = typical_year(INDEX, SITE["latitude"], SITE["longitude"], SITE["altitude"])
    path = _write(tmp_path, wx.iloc[:48])
    s = Scenario.model_validate(
        {"horizon": {"start": "2025-05-10T00:00Z", "end": "2025-05-11T00:00Z",
                     "resolution": "15min"},
         "weather": {"source": "forecast", "path": str(path)},
         "assets": {"heat_pumps": [{"name": "hp", "capacity_kw_el": 10}]}}
    )  # fmt: skip
    with pytest.raises(DataError, match="48 of 96 steps missing"):
        ingest(s)
    s = s.model_copy(
        update={"weather": s.weather.model_copy(update={"path": _write(tmp_path, wx, "all.csv")})}
    )
    tables = ingest(s)
    np.testing.assert_allclose(tables["weather"]["temp_air_c"], wx["temp_air_c"], atol=1e-9)
