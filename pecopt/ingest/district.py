"""Scenario -> canonical tables -> :class:`~pecopt.inputs.DistrictInputs`.

:func:`ingest` reads every source once and returns tidy tables (UTC, units in column
names), which :func:`pecopt.ingest.parquet.write_tables` writes as Parquet;
:func:`to_inputs` turns the same tables into the frozen model inputs. Nothing
downstream re-reads a source file or re-interprets a unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pecopt.errors import DataError, ScenarioError
from pecopt.ingest import ev as ev_io
from pecopt.ingest import loads, tariffs
from pecopt.ingest.cop import cop_carnot
from pecopt.ingest.timeseries import read_series_file
from pecopt.inputs import DistrictInputs, ElectricityPrices, EVInputs, HeatPumpInputs, PVInputs
from pecopt.scenario.schema import Scenario, SeriesFile


@dataclass(frozen=True)
class Tables:
    """The canonical input tables (tidy, UTC ``timestamp`` column)."""

    weather: pd.DataFrame
    loads: pd.DataFrame  # timestamp, building, elec_kw, heat_kw
    pv: pd.DataFrame  # timestamp, array, pv_ac_kw
    prices: pd.DataFrame  # timestamp + *_eur_per_kwh and *_kg_per_kwh columns
    cop: pd.DataFrame  # timestamp, heat_pump, cop
    ev: pd.DataFrame  # timestamp, fleet, vehicle, plugged, drive_kwh
    ev_sessions: pd.DataFrame  # fleet, vehicle, first_step, last_step, energy_kwh

    def as_dict(self) -> dict[str, pd.DataFrame]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def horizon_index(s: Scenario, file: str | None = None) -> pd.DatetimeIndex:
    """The UTC step-start index of the horizon; naive start/end are site-local times."""
    tz = s.site.timezone
    try:
        start, end = pd.Timestamp(s.horizon.start), pd.Timestamp(s.horizon.end)
        if start.tz is None:
            start = start.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        if end.tz is None:
            end = end.tz_localize(tz, ambiguous="raise", nonexistent="raise")
    except Exception as exc:  # noqa: BLE001 - any parse failure is the user's input
        raise ScenarioError(file, "horizon", f"invalid start/end: {exc}") from None
    if end <= start:
        raise ScenarioError(file, "horizon.end", "must be after horizon.start")
    step = pd.Timedelta(s.horizon.resolution)
    idx = pd.date_range(start.tz_convert("UTC"), end.tz_convert("UTC"), freq=step, inclusive="left")
    if len(idx) < 2:
        raise ScenarioError(file, "horizon", "the horizon must hold at least two steps")
    if (end.tz_convert("UTC") - idx[0]) % step != pd.Timedelta(0):
        raise ScenarioError(file, "horizon.end", f"not a whole number of {step} steps")
    return idx


def _series(sf: SeriesFile, index: pd.DatetimeIndex, name: str, *, negative: bool) -> np.ndarray:
    df = read_series_file(
        sf.path,
        {sf.column: name},
        index,
        time_column=sf.time_column,
        tz=sf.timezone,
        allow_negative=negative,
    )
    return df[name].to_numpy(float)


def needs_weather(s: Scenario) -> bool:
    """Weather is read when something uses it: archetype loads (outdoor temperature),
    rooftop PV arrays, air-source heat pumps, or an explicit weather file (checked even
    if unused, so that a bad file is reported)."""
    return (
        s.weather.source == "file"
        or any(b.archetype is not None or b.pv for b in s.buildings)
        or any(hp.source == "air" for hp in s.assets.heat_pumps)
    )


def _weather(s: Scenario, index: pd.DatetimeIndex) -> pd.DataFrame:
    if not needs_weather(s):  # e.g. every series from files: no pvlib needed at all
        return pd.DataFrame(index=index)
    from pecopt.ingest import weather  # pvlib: imported only when weather is needed

    if s.weather.source == "file":
        assert s.weather.path is not None
        return weather.read_weather_file(s.weather.path, s.weather.kind, index)
    site = s.site
    return weather.typical_year(index, site.latitude, site.longitude, site.altitude_m)


def ingest(s: Scenario, file: str | None = None) -> Tables:
    """Read and convert every input of scenario ``s`` onto the horizon."""
    index = horizon_index(s, file)
    site, tz = s.site, s.site.timezone
    wx = _weather(s, index)
    temp = wx["temp_air_c"] if "temp_air_c" in wx.columns else pd.Series(dtype=float)

    load_frames, pv_frames = [], []
    for b in s.buildings:
        if b.archetype is not None:
            a = b.archetype
            prof = loads.archetype_profile(
                index,
                temp,
                use=a.use,
                floor_area_m2=a.floor_area_m2,
                elec_kwh_m2_yr=a.elec_kwh_m2_yr,
                space_heat_kwh_m2_yr=a.space_heat_kwh_m2_yr,
                hot_water_kwh_m2_yr=a.hot_water_kwh_m2_yr,
                tz=tz,
            )
            elec, heat = prof["elec_kw"].to_numpy(float), prof["heat_kw"].to_numpy(float)
        else:
            m = b.metered
            assert m is not None
            elec, heat = (
                np.zeros(len(index))
                if column is None
                else loads.metered_profile(
                    m.path,
                    index,
                    column=column,
                    unit=m.unit,
                    tz=m.timezone,
                    time_column=m.time_column,
                    name=name,
                ).to_numpy(float)
                for column, name in ((m.elec_column, "elec_kw"), (m.heat_column, "heat_kw"))
            )
        load_frames.append(
            pd.DataFrame({"timestamp": index, "building": b.name, "elec_kw": elec, "heat_kw": heat})
        )
        for arr in b.pv:
            from pecopt.ingest import pv

            ac = pv.pv_ac_kw(
                wx,
                site.latitude,
                site.longitude,
                site.altitude_m,
                arr.kwp,
                arr.tilt_deg,
                arr.azimuth_deg,
                arr.losses_pct,
            )
            pv_frames.append(
                pd.DataFrame(
                    {"timestamp": index, "array": arr.name, "pv_ac_kw": ac.to_numpy(float)}
                )
            )
    if s.demand is not None:
        elec = (
            _series(s.demand.elec, index, "elec_kw", negative=False)
            if s.demand.elec
            else np.zeros(len(index))
        )
        heat = (
            _series(s.demand.heat, index, "heat_kw", negative=False)
            if s.demand.heat
            else np.zeros(len(index))
        )
        load_frames.append(
            pd.DataFrame(
                {
                    "timestamp": index,
                    "building": "district_series",
                    "elec_kw": elec,
                    "heat_kw": heat,
                }
            )
        )
    for ps in s.assets.pv_series:
        pv_frames.append(
            pd.DataFrame(
                {
                    "timestamp": index,
                    "array": ps.name,
                    "pv_ac_kw": _series(ps.series, index, "pv_ac_kw", negative=False),
                }
            )
        )

    prices = _prices(s, index, file)
    cop_frames = []
    for hp in s.assets.heat_pumps:
        if hp.source == "series":
            assert hp.cop_series is not None
            cop = _series(hp.cop_series, index, "cop", negative=False)
            if (cop <= 0).any():
                at = index[int(np.flatnonzero(cop <= 0)[0])]
                raise DataError(
                    hp.cop_series.path,
                    hp.cop_series.column,
                    f"COP must be > 0 (heat pump {hp.name}): {cop[cop <= 0][0]:g} at {at} (UTC)",
                )
        else:
            src = (
                temp.to_numpy(float)
                if hp.source == "air"
                else np.full(len(index), hp.ground_temp_c)
            )
            cop = cop_carnot(src, hp.sink_temp_c, hp.carnot_efficiency, hp.cop_max)
        if (cop <= 0).any():
            raise ScenarioError(file, f"assets.heat_pumps.{hp.name}", "COP must be > 0")
        cop_frames.append(pd.DataFrame({"timestamp": index, "heat_pump": hp.name, "cop": cop}))

    ev_frames, sess_frames = [], []
    for f in s.assets.ev_fleets:
        strict = f.shortfall_penalty_eur_per_kwh is None  # no unmet energy allowed
        if f.sessions is not None:
            names, plugged, sv, sf, sl, se = ev_io.read_sessions(
                f.sessions,
                index,
                f.timezone,
                capacity_kwh=f.capacity_kwh,
                max_store_kw=f.charger_kw * f.efficiency if strict else None,
            )
            drive = np.zeros(plugged.shape)
            sess_frames.append(
                pd.DataFrame(
                    {
                        "fleet": f.name,
                        "vehicle": np.asarray(names, object)[sv],
                        "first_step": sf,
                        "last_step": sl,
                        "energy_kwh": se,
                    }
                )
            )
        elif f.availability is not None:
            names, plugged, drive = ev_io.read_availability(f.availability, index, f.timezone)
        else:
            g = f.synthetic
            assert g is not None
            names, plugged, drive = ev_io.synthetic_commuters(
                index,
                g.vehicles,
                depart_local_h=g.depart_local_h,
                return_local_h=g.return_local_h,
                drive_kwh_per_day=g.drive_kwh_per_day,
                weekend_trip_share=g.weekend_trip_share,
                seed=g.seed,
                tz=tz,
            )
        trip = ev_io.trip_beyond(plugged, drive, f.capacity_kwh) if strict else None
        if trip is not None:
            v, leave, back, energy = trip
            problem = (
                f"vehicle {names[v]} drives {energy:g} kWh between {index[leave]} and "
                f"{index[back] + (index[1] - index[0])} (UTC) without being plugged in, more than "
                f"its battery holds (capacity_kwh {f.capacity_kwh:g} kWh); set "
                "shortfall_penalty_eur_per_kwh to accept energy from elsewhere"
            )
            if f.availability is not None:
                raise DataError(f.availability, "drive_kwh", problem)
            raise ScenarioError(
                file, f"assets.ev_fleets.{f.name}.synthetic.drive_kwh_per_day", problem
            )
        ev_frames.append(ev_io.tidy(index, f.name, names, plugged, drive))

    def cat(frames: list[pd.DataFrame], cols: list[str]) -> pd.DataFrame:
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)

    return Tables(
        weather=wx.reset_index(drop=True).assign(timestamp=index)[
            ["timestamp", *[c for c in wx.columns if c != "timestamp"]]
        ],
        loads=cat(load_frames, ["timestamp", "building", "elec_kw", "heat_kw"]),
        pv=cat(pv_frames, ["timestamp", "array", "pv_ac_kw"]),
        prices=prices,
        cop=cat(cop_frames, ["timestamp", "heat_pump", "cop"]),
        ev=cat(ev_frames, ["timestamp", "fleet", "vehicle", "plugged", "drive_kwh"]),
        ev_sessions=cat(sess_frames, ["fleet", "vehicle", "first_step", "last_step", "energy_kwh"]),
    )


def _prices(s: Scenario, index: pd.DatetimeIndex, file: str | None) -> pd.DataFrame:
    el, tz = s.tariffs.electricity, s.site.timezone
    sp = el.spot
    if sp.source == "file":
        assert sp.path is not None
        if sp.unit == "eur_per_kwh":
            spot = _series(
                SeriesFile(
                    path=sp.path, column=sp.column, time_column=sp.time_column, timezone=sp.timezone
                ),
                index,
                "spot",
                negative=True,
            )
        else:
            spot = tariffs.read_spot(
                sp.path,
                index,
                unit=sp.unit,
                vat_included=sp.vat_included,
                column=sp.column,
                time_column=sp.time_column,
                tz=sp.timezone,
            ).to_numpy(float)
    else:
        spot = tariffs.typical_spot_eur_per_kwh(index, tz=tz).to_numpy(float)
    bands: list[tariffs.TouBand] = [
        {
            "eur_per_kwh": b.eur_per_kwh,
            "months": b.months,
            "weekdays": b.weekdays,
            "hours_local": b.hours,
        }
        for b in el.network.bands
    ]
    network = tariffs.tou_network_fee(index, bands, el.network.default_eur_per_kwh, tz=tz).to_numpy(
        float
    )
    tax = 0.0 if el.tax_class == "none" else tariffs.ELECTRICITY_TAX_EUR_PER_KWH[el.tax_class]
    dh = s.tariffs.district_heat
    if dh.price_series is not None:
        dh_price = _series(dh.price_series, index, "dh", negative=False)
    else:
        dh_price = tariffs.dh_energy_price(
            index,
            monthly=dh.monthly_eur_per_kwh,
            summer_winter=(
                None
                if dh.summer_eur_per_kwh is None
                else (dh.summer_eur_per_kwh, dh.winter_eur_per_kwh or 0.0)
            ),
            constant=dh.energy_eur_per_kwh,
            tz=tz,
        ).to_numpy(float)

    def factor(f: object, name: str) -> np.ndarray:
        from pecopt.scenario.schema import EmissionFactor

        assert isinstance(f, EmissionFactor)
        if f.series is not None:
            return _series(f.series, index, name, negative=False)
        return np.full(len(index), float(f.constant_kg_per_kwh or 0.0))

    n = len(index)
    return pd.DataFrame(
        {
            "timestamp": index,
            "spot_eur_per_kwh": spot,
            "retail_margin_eur_per_kwh": np.full(n, el.retail_margin_eur_per_kwh),
            "network_eur_per_kwh": network,
            "tax_eur_per_kwh": np.full(n, tax),
            "vat": np.full(n, el.vat),
            "export_eur_per_kwh": spot - el.export_margin_eur_per_kwh,
            "dh_eur_per_kwh": dh_price,
            "grid_co2_kg_per_kwh": factor(s.carbon.grid, "grid_co2"),
            "dh_co2_kg_per_kwh": factor(s.carbon.district_heat, "dh_co2"),
        }
    )


def to_inputs(s: Scenario, t: Tables, file: str | None = None) -> DistrictInputs:
    """Assemble the frozen model inputs from the canonical tables (``file``: the scenario
    file, named in errors)."""
    p = t.prices
    index = pd.DatetimeIndex(p["timestamp"])
    n = len(index)
    dt_h = (index[1] - index[0]) / pd.Timedelta(hours=1)

    def wide(df: pd.DataFrame, key: str, value: str, names: list[str]) -> np.ndarray:
        if not names:
            return np.zeros((0, n))
        return df[value].to_numpy(float).reshape(len(names), n)

    pv_names = [str(x) for x in pd.unique(t.pv["array"].to_numpy())] if len(t.pv) else []
    by_b = t.loads.groupby("timestamp", sort=True)[["elec_kw", "heat_kw"]].sum()
    elec = by_b["elec_kw"].reindex(index, fill_value=0.0).to_numpy(float)
    heat = by_b["heat_kw"].reindex(index, fill_value=0.0).to_numpy(float)
    hps = []
    for hp in s.assets.heat_pumps:
        cop = t.cop.loc[t.cop["heat_pump"] == hp.name, "cop"].to_numpy(float)
        hps.append(HeatPumpInputs(hp, cop))
    fleets = []
    for f in s.assets.ev_fleets:
        rows = t.ev[t.ev["fleet"] == f.name]
        vehicles = tuple(str(x) for x in pd.unique(rows["vehicle"].to_numpy()))
        nv = len(vehicles)
        plugged = rows["plugged"].to_numpy(bool).reshape(nv, n)
        drive = rows["drive_kwh"].to_numpy(float).reshape(nv, n)
        unknown = sorted(set(f.initial_energy_kwh) - set(vehicles))
        if unknown:
            raise ScenarioError(
                file,
                f"assets.ev_fleets.{f.name}.initial_energy_kwh",
                f"no such vehicle(s): {unknown[:5]} (the fleet has {list(vehicles[:5])}"
                f"{' ...' if len(vehicles) > 5 else ''})",
            )
        if f.sessions is not None:
            ss = t.ev_sessions[t.ev_sessions["fleet"] == f.name]
            vid = np.searchsorted(np.asarray(vehicles, dtype=object), ss["vehicle"].to_numpy())
            fleets.append(
                EVInputs(
                    f,
                    vehicles,
                    plugged,
                    drive,
                    "sessions",
                    session_vehicle=vid.astype(np.int64),
                    session_first=ss["first_step"].to_numpy(np.int64),
                    session_last=ss["last_step"].to_numpy(np.int64),
                    session_energy_kwh=ss["energy_kwh"].to_numpy(float),
                )
            )
        else:
            initial = None
            if f.soc_initial_kwh is not None or f.initial_energy_kwh:
                initial = np.array([f.initial_energy_kwh.get(v, np.nan) for v in vehicles])
                if f.soc_initial_kwh is not None:
                    initial[np.isnan(initial)] = f.soc_initial_kwh
                if np.isnan(initial).any() and f.end != "cyclic":
                    missing = [v for v, e in zip(vehicles, initial, strict=True) if np.isnan(e)]
                    raise ScenarioError(
                        file,
                        f"assets.ev_fleets.{f.name}.initial_energy_kwh",
                        f"no start energy for {missing[:5]} (give soc_initial_kwh for the rest)",
                    )
            fleets.append(
                EVInputs(f, vehicles, plugged, drive, "availability", initial_kwh=initial)
            )
    prices = ElectricityPrices(
        spot=p["spot_eur_per_kwh"].to_numpy(float),
        retail_margin=p["retail_margin_eur_per_kwh"].to_numpy(float),
        network=p["network_eur_per_kwh"].to_numpy(float),
        tax=p["tax_eur_per_kwh"].to_numpy(float),
        vat=float(s.tariffs.electricity.vat),
        export=p["export_eur_per_kwh"].to_numpy(float),
    )
    return DistrictInputs(
        name=s.site.name,
        index=index,
        dt_h=float(dt_h),
        timezone=s.site.timezone,
        elec_demand_kw=elec,
        heat_demand_kw=heat,
        pv=PVInputs(tuple(pv_names), wide(t.pv, "array", "pv_ac_kw", pv_names)),
        prices=prices,
        dh_price_eur_per_kwh=p["dh_eur_per_kwh"].to_numpy(float),
        grid_co2_kg_per_kwh=p["grid_co2_kg_per_kwh"].to_numpy(float),
        dh_co2_kg_per_kwh=p["dh_co2_kg_per_kwh"].to_numpy(float),
        grid=s.assets.grid,
        batteries=tuple(s.assets.batteries),
        heat_pumps=tuple(hps),
        boilers=tuple(s.assets.electric_boilers),
        thermal_stores=tuple(s.assets.thermal_stores),
        district_heating=s.assets.district_heating,
        dh_tariff=s.tariffs.district_heat,
        ev_fleets=tuple(fleets),
        carbon=s.carbon,
        ped=s.ped,
        objective=s.objective,
        solver=s.solver,
    )
