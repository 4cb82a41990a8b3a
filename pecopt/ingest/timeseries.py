"""Read a time-series file (CSV or Parquet) onto pecopt's canonical time index.

The canonical index is a tz-aware UTC :class:`pandas.DatetimeIndex` with a fixed frequency
(``1h`` or ``15min``) whose labels are step starts; a value is the mean over the step.
:func:`read_series_file` is the one place where user files are parsed, checked and
resampled; every problem in a file becomes a :class:`pecopt.errors.DataError` that names
the file, the column and the problem.

Calendar helpers that other readers share (step length, local effective weekday with
Finnish public holidays) live here too.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

import holidays
import numpy as np
import pandas as pd

from pecopt.errors import DataError
from pecopt.files import FileProblem, decode_utf8, read_bytes
from pecopt.timezones import check_zone

__all__ = [
    "effective_weekday",
    "local_year_index",
    "parse_times",
    "read_series_file",
    "read_table",
    "row_name",
    "step_hours",
    "step_of",
    "zone_for",
]

#: Suffixes read as CSV or Parquet.
_CSV_SUFFIXES = {".csv", ".txt"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}

#: A time of day followed by an explicit zone designator (``Z``, ``+02:00``, ``+0300``).
_HAS_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$")


def step_of(index: pd.DatetimeIndex) -> pd.Timedelta:
    """Return the fixed step of a canonical index.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware, regular index (``index.freq`` set, or at least two equally spaced labels).

    Returns
    -------
    pandas.Timedelta
        The step length.

    Raises
    ------
    ValueError
        If the index is not tz-aware or not regular (a programming error, not a data error).
    """
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise ValueError("the time index must be a tz-aware pandas.DatetimeIndex")
    if index.freq is not None:
        if not isinstance(index.freq, pd.offsets.Tick):
            raise ValueError(f"the time index needs a fixed step, got freq {index.freq}")
        return pd.Timedelta(index.freq)
    if len(index) < 2:
        raise ValueError("a one-step index must carry a freq")
    diffs = index[1:] - index[:-1]
    if (diffs != diffs[0]).any():
        raise ValueError("the time index is not regular")
    return pd.Timedelta(diffs[0])


def step_hours(index: pd.DatetimeIndex) -> float:
    """Return ``dt_h``, the step length of ``index`` in hours [h]."""
    return step_of(index) / pd.Timedelta(hours=1)


def effective_weekday(index: pd.DatetimeIndex, *, tz: str = "Europe/Helsinki") -> np.ndarray:
    """Local weekday of each step, with Finnish public holidays counted as Sundays.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        tz-aware step-start labels.
    tz : str
        IANA zone in which the weekday is read (default Europe/Helsinki).

    Returns
    -------
    numpy.ndarray of int
        0 = Monday … 5 = Saturday, 6 = Sunday or a public holiday of ``holidays.Finland``
        (e.g. 6 Dec, Independence Day; Midsummer Eve and Christmas Eve are included by the
        package as de-facto holidays).
    """
    if len(index) == 0:
        return np.zeros(0, np.int64)
    ns = np.asarray(index.as_unit("ns").asi8)
    step = int(ns[1] - ns[0]) if len(ns) > 1 else 0
    if len(ns) < 2 or (np.diff(ns) == step).all():  # regular: once per (start, n, step, zone)
        return _regular_weekday(int(ns[0]), len(ns), step, tz).copy()
    return _weekday(index, tz)


def _weekday(index: pd.DatetimeIndex, tz: str) -> np.ndarray:
    local = index.tz_convert(tz)
    weekday = np.asarray(local.day_of_week, dtype=np.int64).copy()
    dates = np.asarray(local.tz_localize(None).normalize().as_unit("ns").asi8)
    years = tuple(sorted({int(y) for y in np.unique(np.asarray(local.year))}))
    weekday[np.isin(dates, _finnish_holidays(years))] = 6
    return weekday


@lru_cache(maxsize=64)
def _regular_weekday(start_ns: int, n: int, step_ns: int, tz: str) -> np.ndarray:
    index = pd.to_datetime(start_ns + step_ns * np.arange(n, dtype=np.int64), unit="ns", utc=True)
    return _weekday(pd.DatetimeIndex(index), tz)


@lru_cache(maxsize=16)
def _finnish_holidays(years: tuple[int, ...]) -> np.ndarray:
    """Finnish public holidays of ``years`` as naive midnight nanoseconds."""
    days = pd.DatetimeIndex([pd.Timestamp(d) for d in holidays.Finland(years=list(years))])
    return np.asarray(days.as_unit("ns").asi8)


def local_year_index(year: int, tz: str = "Europe/Helsinki") -> pd.DatetimeIndex:
    """Hourly UTC index covering the local calendar year ``year`` in ``tz``.

    It has 8,760 steps (8,784 in a leap year): the daylight-saving days have 23 and 25
    local hours, which cancel.
    """
    start = pd.Timestamp(f"{year}-01-01", tz=tz)
    end = pd.Timestamp(f"{year + 1}-01-01", tz=tz)
    return pd.date_range(start, end, freq="1h", inclusive="left").tz_convert("UTC")


def read_series_file(
    path: str | Path,
    columns: Mapping[str, str],
    index: pd.DatetimeIndex,
    *,
    time_column: str = "timestamp",
    tz: str = "UTC",
    kind: Literal["power", "energy"] = "power",
    allow_negative: bool = False,
    holes: bool = False,
) -> pd.DataFrame:
    """Read columns of a CSV or Parquet file and align them to a canonical index.

    Steps: read the file (by suffix); check the columns; parse the time column; reject
    duplicated, missing or irregular timestamps anywhere in the file (one exception: a
    ``power`` file whose step shortens once, as day-ahead prices went from hourly to
    quarter-hourly on 1 Oct 2025, is first put on its finer step, each coarse value held
    over its steps: :func:`_finer_from`); check that the file
    step fits the model step and that the file covers the whole horizon; reject NaN,
    infinite, non-numeric and (unless ``allow_negative``) negative values in the rows the
    horizon uses (rows outside it are ignored, e.g. a trailing gap after the last price);
    convert energy per step to mean power; resample onto ``index``.

    Time parsing: strings with an explicit offset (``2025-10-26 03:30+03:00``, ``...Z``) and
    tz-aware Parquet columns are exact instants and ``tz`` is ignored. Naive times are local
    times in ``tz``; a non-existent local time (spring forward, e.g. 03:30 on 2025-03-30 in
    Europe/Helsinki) is an error, and so is an ambiguous one (fall back, 03:30 on 2025-10-26
    in Europe/Helsinki) unless it appears twice in order, which resolves it.

    Resampling, with file step :math:`\\Delta_f` and target step :math:`\\Delta`:

    * :math:`\\Delta_f = k\\Delta` (coarser file): the value holds over the file step,
      :math:`y_t = x_{\\lfloor (t - t_0)/\\Delta_f \\rfloor}` (e.g. hourly power constant
      within the hour on a 15-min index);
    * :math:`\\Delta = k\\Delta_f` (finer file): :math:`y_t = \\frac{1}{k}\\sum_{j<k} x_{p+j}`,
      the mean over the target step, which preserves energy.

    Parameters
    ----------
    path : str or pathlib.Path
        ``.csv``/``.txt`` or ``.parquet``/``.pq`` file.
    columns : mapping of str to str
        Source column -> canonical name, e.g. ``{"Load (kW)": "elec_kw"}``.
    index : pandas.DatetimeIndex
        Canonical tz-aware UTC index with a fixed step.
    time_column : str
        Name of the step-start time column (default ``timestamp``).
    tz : str
        Zone of naive times in the file (default ``UTC``).
    kind : {"power", "energy"}
        ``power``: values are means over the step (kW, EUR/kWh, kg/kWh ...), kept as they
        are. ``energy``: values are energy per file step [kWh], converted to mean power
        :math:`P = E / \\Delta t_f` [kW].
    allow_negative : bool
        Accept negative values (prices). Default False (loads, emission factors).
    holes : bool
        Accept holes inside the file: rows missing from its regular step grid (every
        gap between times a whole number of steps) and empty cells. A target step that
        uses a hole is NaN, for the caller to fill (forecasts: a nightly plan goes on).
        Text cells stay errors. Default False: a hole is an error.

    Returns
    -------
    pandas.DataFrame
        One float column per canonical name, indexed exactly by ``index``.

    Raises
    ------
    pecopt.errors.DataError
        For every problem in the file; the message is ``file: column: problem``.
    """
    path = Path(path)
    canon = dict(columns)
    if len(set(canon.values())) != len(canon):
        raise ValueError(f"two source columns map to the same canonical name: {canon}")
    tstep = step_of(index)
    file_field = ", ".join([time_column, *canon])
    tz = zone_for(tz, path, time_column)
    frame = read_table(path, file_field)

    missing = [c for c in [time_column, *canon] if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        raise DataError(path, missing[0], f"missing column (found: {found})")
    if len(frame) < 2:
        raise DataError(path, time_column, "at least two rows are needed to infer the time step")

    times = parse_times(frame[time_column], path, time_column, tz)
    dup = times.duplicated()
    if dup.any():
        raise DataError(path, time_column, f"duplicated timestamp {times[dup][0]} (UTC)")
    order = np.argsort(np.asarray(times), kind="stable")
    times = times[order]
    if kind == "power":
        frame, times, order = _finer_from(frame.iloc[order], times)
    if holes:
        frame, times, order = _on_grid(frame.iloc[order], times, path, time_column)
    fstep = _file_step(times, path, time_column)

    pick = _resample_positions(times[0], fstep, index, tstep, path, time_column)
    _check_coverage(times, fstep, index, tstep, path, time_column)
    used = np.zeros(len(times), dtype=bool)
    used[pick.ravel()] = True

    out: dict[str, np.ndarray] = {}
    for src, name in canon.items():
        x = _numeric_column(
            frame[src].iloc[order], times, used, path, src, allow_negative, holes=holes
        )
        if kind == "energy":
            x = x / (fstep / pd.Timedelta(hours=1))
        out[name] = x[pick].mean(axis=1)
    return pd.DataFrame(out, index=index)


def read_table(path: Path, field: str) -> pd.DataFrame:
    """Read a CSV (UTF-8) or Parquet file; every read or parse failure is a DataError.

    CSV cells are kept as written: ``n/a``, ``NA`` or an empty cell is not turned into a
    missing value here, so that the column checks can quote the cell (``not a number:
    'n/a'``). A leading UTF-8 byte-order mark is accepted; other encodings are refused
    with the line and column of the first byte that is not UTF-8.
    """
    suffix = path.suffix.lower()
    try:
        data = read_bytes(path)  # first, so that a folder or a link loop is said as such
        if suffix not in _CSV_SUFFIXES | _PARQUET_SUFFIXES:
            raise DataError(path, field, f"unsupported file type {suffix!r} (use .csv or .parquet)")
        if suffix in _PARQUET_SUFFIXES:
            return pd.read_parquet(io.BytesIO(data))
        text = decode_utf8(data)
        if not text.strip():
            raise DataError(path, field, "the file is empty")
        return pd.read_csv(io.StringIO(text), keep_default_na=False)
    except FileProblem as exc:
        raise DataError(path, field, exc.problem) from None
    except (OSError, ValueError) as exc:  # parser and Arrow errors
        words = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(path, field, f"cannot read file ({words})") from None


def row_name(path: Path, row: int) -> str:
    """How a user finds data row ``row`` (0-based, after the header): a CSV line number
    (the header is line 1; blank lines are assumed absent) or a Parquet row number."""
    if path.suffix.lower() in _CSV_SUFFIXES:
        return f"line {row + 2}"
    return f"row {row + 1}"


def zone_for(tz: str, path: Path, column: str) -> str:
    """``tz`` if it is a known time zone, else a DataError naming the file and column."""
    try:
        return check_zone(tz)
    except ValueError as exc:
        raise DataError(path, column, f"{exc} for the naive times of this file") from None


def parse_times(raw: pd.Series, path: Path, col: str, tz: str) -> pd.DatetimeIndex:
    """Parse a time column to a UTC DatetimeIndex (see :func:`read_series_file`).

    ISO 8601 text or datetime columns; naive times are local in ``tz`` (a known zone,
    see :func:`zone_for`). Every problem is a DataError naming the row.
    """
    empty = np.asarray(raw.isna())
    if not pd.api.types.is_datetime64_any_dtype(raw.dtype):  # text: blank cells too
        empty = empty | np.asarray(raw.astype(str).str.strip() == "")
    if empty.any():
        row = int(np.flatnonzero(empty)[0])
        raise DataError(path, col, f"missing timestamp in {row_name(path, row)}")
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(raw).tz_convert("UTC")
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        return _localise(pd.DatetimeIndex(raw), tz, path, col)

    text = raw.astype(str).str.strip()
    has_offset = np.asarray(text.str.contains(_HAS_OFFSET, regex=True))
    if has_offset.any() and not has_offset.all():
        row = int(np.flatnonzero(~has_offset)[0])
        raise DataError(
            path, col, f"mixes times with and without a UTC offset (e.g. {text.iloc[row]!r})"
        )
    aware = bool(has_offset.all())
    # ISO 8601 only: guessing day-first vs month-first formats could silently swap dates.
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=aware)
    if parsed.isna().any():
        row = int(np.flatnonzero(np.asarray(parsed.isna()))[0])
        raise DataError(
            path,
            col,
            f"cannot parse timestamp {text.iloc[row]!r} "
            "(expected ISO 8601, e.g. 2025-01-31 13:00 or 2025-01-31T13:00+02:00)",
        )
    stamps = pd.DatetimeIndex(parsed)
    return stamps.tz_convert("UTC") if aware else _localise(stamps, tz, path, col)


def _localise(naive: pd.DatetimeIndex, tz: str, path: Path, col: str) -> pd.DatetimeIndex:
    """Localise naive local times, rejecting non-existent and unresolvable ambiguous ones."""
    if tz.upper() == "UTC":
        return naive.tz_localize("UTC")
    as_dst = np.ones(len(naive), dtype=bool)
    nonexistent = naive.tz_localize(tz, ambiguous=as_dst, nonexistent="NaT").isna()
    if nonexistent.any():
        bad = naive[nonexistent][0]
        raise DataError(
            path, col, f"non-existent local time {bad} in {tz} (daylight-saving spring forward)"
        )
    if naive.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").isna().any():
        try:
            local = naive.tz_localize(tz, ambiguous="infer")
        except ValueError as exc:
            bad = naive[naive.tz_localize(tz, ambiguous="NaT").isna()][0]
            raise DataError(
                path,
                col,
                f"ambiguous local time {bad} in {tz} (daylight-saving fall back); "
                "give UTC times or times with an explicit offset",
            ) from exc
    else:
        local = naive.tz_localize(tz)
    return local.tz_convert("UTC")


def _finer_from(
    frame: pd.DataFrame, times: pd.DatetimeIndex
) -> tuple[pd.DataFrame, pd.DatetimeIndex, np.ndarray]:
    """``frame`` (in time order) on one step when its step shortens once: rows at a step
    :math:`k\\Delta` up to some time, then at :math:`\\Delta` (Nordic day-ahead prices:
    hourly until 30 Sep 2025, quarter-hourly from 1 Oct 2025). Each coarse row is repeated
    over its :math:`k` fine steps (a mean over its step holds within it), keeping its file
    row for messages; the identity order. Any other file is returned as it is (its gaps are
    judged later)."""
    same = (frame, times, np.arange(len(frame)))
    if len(times) < 4:
        return same
    diffs = np.asarray((times[1:] - times[:-1]) / pd.Timedelta(1, "s"))
    fine = diffs.min()
    coarse = np.flatnonzero(diffs != fine)
    if not coarse.size or coarse[-1] != coarse.size - 1 or coarse.size < 2:
        return same  # regular, or not one coarse run at the start
    ratio = diffs[0] / fine
    if (
        ratio != round(ratio)
        or np.any(diffs[coarse] != diffs[0])
        or diffs.size - coarse.size < ratio
    ):
        return same
    n = coarse.size  # rows 0..n-1 start coarse steps; row n starts the fine ones
    k = int(round(ratio))
    head = times[:n].repeat(k) + pd.to_timedelta(np.tile(np.arange(k), n) * fine, unit="s")
    rows = np.concatenate([np.repeat(np.arange(n), k), np.arange(n, len(times))])
    out = frame.iloc[rows]
    new_times = head.append(times[n:])
    return out, pd.DatetimeIndex(new_times), np.arange(len(out))


def _on_grid(
    frame: pd.DataFrame, times: pd.DatetimeIndex, path: Path, col: str
) -> tuple[pd.DataFrame, pd.DatetimeIndex, np.ndarray]:
    """``frame`` (in time order) on the regular grid of its smallest step, rows missing
    from it added empty; the identity order. Times off that grid are errors."""
    if len(times) < 2:
        return frame, times, np.arange(len(frame))
    diffs = times[1:] - times[:-1]
    step = pd.Timedelta(diffs.min())
    off = np.flatnonzero(np.asarray(diffs % step != pd.Timedelta(0)))
    if off.size:
        i = int(off[0])
        raise DataError(
            path,
            col,
            f"irregular timestamps: step {step} expected, "
            f"but {times[i]} is followed by {times[i + 1]} (UTC)",
        )
    grid = pd.date_range(times[0], times[-1], freq=step)
    where = grid.get_indexer(times)
    full = pd.DataFrame(np.nan, index=range(len(grid)), columns=frame.columns, dtype=object)
    full.iloc[where] = frame.to_numpy(dtype=object)
    rows = np.full(len(grid), -1, dtype=np.int64)
    rows[where] = np.asarray(frame.index)
    full.index = pd.Index(rows)  # file rows for messages; -1 for an added row
    return full, pd.DatetimeIndex(grid), np.arange(len(grid))


def _file_step(times: pd.DatetimeIndex, path: Path, col: str) -> pd.Timedelta:
    """Return the regular step of sorted, unique ``times``; gaps and jitter are errors."""
    diffs = times[1:] - times[:-1]
    step = pd.Timedelta(diffs.min())
    bad = np.flatnonzero(np.asarray(diffs != step))
    if bad.size:
        i = int(bad[0])
        raise DataError(
            path,
            col,
            f"missing or irregular timestamps: step {step} expected, "
            f"but {times[i]} is followed by {times[i + 1]} (UTC)",
        )
    return step


def _numeric_column(
    raw: pd.Series,
    times: pd.DatetimeIndex,
    used: np.ndarray,
    path: Path,
    col: str,
    allow_negative: bool,
    *,
    holes: bool = False,
) -> np.ndarray:
    """Return a float array; NaN, text, infinity and (optionally) negatives in the rows
    ``used`` by the horizon are errors (rows outside the horizon are not checked); with
    ``holes``, empty cells are NaN, not errors.

    ``raw`` is in time order; its index holds the file's row positions, so that the
    message names the first bad row as the user finds it (:func:`row_name`).
    """
    x = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=float)

    def where(i: int) -> str:
        return f"{row_name(path, int(raw.index[i]))} ({times[i]} UTC)"

    nan = np.isnan(x) & used
    cells = raw.iloc[np.flatnonzero(nan)]
    empty = np.asarray(pd.isna(cells) | (cells.astype(str).str.strip() == ""))
    bad = np.flatnonzero(nan)[~empty] if holes else np.flatnonzero(nan)
    if bad.size:
        i = int(bad[0])
        cell = raw.iloc[i]
        if pd.isna(cell) or str(cell).strip() == "":
            what = "missing value"
        else:
            what = f"not a number: {str(cell)!r}"
        raise DataError(path, col, f"{what} in {where(i)}")
    inf = np.isinf(x) & used
    if inf.any():
        raise DataError(path, col, f"infinite value in {where(int(np.flatnonzero(inf)[0]))}")
    negative = (x < 0) & used
    if not allow_negative and negative.any():
        i = int(np.flatnonzero(negative)[0])
        raise DataError(path, col, f"negative value {x[i]} in {where(i)}")
    return x


def _check_coverage(
    times: pd.DatetimeIndex,
    fstep: pd.Timedelta,
    index: pd.DatetimeIndex,
    tstep: pd.Timedelta,
    path: Path,
    col: str,
) -> None:
    """Raise DataError unless [first, last + step) of the file covers the horizon."""
    have = (times[0], times[-1] + fstep)
    need = (index[0], index[-1] + tstep)
    if have[0] > need[0] or have[1] < need[1]:
        raise DataError(
            path,
            col,
            f"horizon {need[0]} to {need[1]} (UTC) not covered: "
            f"the file spans {have[0]} to {have[1]}",
        )


def _resample_positions(
    start: pd.Timestamp,
    fstep: pd.Timedelta,
    index: pd.DatetimeIndex,
    tstep: pd.Timedelta,
    path: Path,
    col: str,
) -> np.ndarray:
    """Row positions of the file averaged into each target step, shape (len(index), k).

    A coarser file gives k = 1 (the file step containing the target step); a finer file
    gives the k = tstep / fstep file steps inside the target step.
    """
    offset = index[0] - start
    if fstep >= tstep:
        compatible = fstep % tstep == pd.Timedelta(0)
        aligned = offset % tstep == pd.Timedelta(0)
        k = 1
    else:
        compatible = tstep % fstep == pd.Timedelta(0)
        aligned = offset % fstep == pd.Timedelta(0)
        k = int(tstep // fstep)
    if not compatible:
        raise DataError(path, col, f"file step {fstep} is incompatible with the model step {tstep}")
    if not aligned:
        raise DataError(
            path, col, f"timestamps are not aligned with the model grid (file starts at {start})"
        )
    first = np.asarray((index - start) // fstep, dtype=np.int64)
    return first[:, None] + np.arange(k, dtype=np.int64)[None, :]
