"""Synthetic, reproducible input data for the example scenario.

The example scenario (``scenarios/example``) ships with one year of made-up but plausible
hourly market data for a West Texas site and daily Bitcoin network data. Everything here is
generated from a single seed with :func:`numpy.random.default_rng`, so the files can be
rebuilt byte for byte on any machine::

    python -m optimiser.synthetic scenarios/example

Nothing in this module is real market data. The shapes are chosen to exercise the optimiser:

* ``prices.csv`` (hourly): an ERCOT-West-like real-time energy price with a daily and a
  seasonal shape, log-normal noise, a few hundred negative hours (windy spring nights and
  solar middays), price spikes on summer evenings and during one winter cold snap, the
  ancillary-service prices RRS and ECRS (correlated with the energy spikes), an hourly GPU
  spot price and the grid carbon intensity.
* ``bitcoin.csv`` (daily): the BTC price (a geometric random walk), the network difficulty
  (a step series, adjusted every 14 days) and the transaction fees per block.

Reproducibility
---------------
Random numbers come only from ``numpy.random.default_rng(seed)``, drawn in a fixed order.
Transcendental functions (``exp``, ``log``, ``tanh`` ...) may differ in the last bit between
maths libraries, so every generated series is first quantised to 1e-6 and only then rounded
to the precision written to disk; the files are written by hand with ``\\n`` line endings.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

__all__ = ["example_series", "write_example", "PRICE_COLUMNS", "BITCOIN_COLUMNS"]

#: Local time zone of the synthetic site; shapes (hour of day, season) are in local time.
TIMEZONE: Final = "America/Chicago"

#: Hourly columns of ``prices.csv`` (after ``timestamp``) and their decimals on disk.
PRICE_COLUMNS: Final = (
    ("price_usd_per_mwh", 2),
    ("rrs_usd_per_mw_per_h", 2),
    ("ecrs_usd_per_mw_per_h", 2),
    ("gpu_spot_usd_per_mwh", 2),
    ("carbon_kg_per_mwh", 1),
)

#: Daily columns of ``bitcoin.csv`` (after ``timestamp``) and their decimals on disk.
BITCOIN_COLUMNS: Final = (
    ("btc_usd", 2),
    ("difficulty", 1),
    ("fees_btc_per_block", 4),
)

#: The four coincident-peak intervals of the example scenario (hour beginning, local time).
#: The generator puts a heat-wave price spike on each of them that falls inside the series.
CP_INTERVALS: Final = (
    "2025-06-24T16:00:00-05:00",
    "2025-07-29T17:00:00-05:00",
    "2025-08-20T16:00:00-05:00",
    "2025-09-03T17:00:00-05:00",
)

_PRICE_CAP: Final = 5000.0  # ERCOT system-wide offer cap [$/MWh]
_NEGATIVE_FLOOR: Final = 32.0  # the price tends to -_NEGATIVE_FLOOR in deep surplus [$/MWh]
_QUANTUM: Final = 6  # decimals every series is quantised to before the final rounding

# Daily shape of log price by local hour, before seasonal modulation [-].
_HOUR_SHAPE: Final = (
    -0.22, -0.27, -0.30, -0.30, -0.26, -0.16,  # 00-05 night
    0.00, 0.10, 0.10, 0.04, -0.02, -0.05,  # 06-11 morning
    -0.06, -0.05, -0.01, 0.07, 0.17, 0.27,  # 12-17 afternoon
    0.38, 0.42, 0.38, 0.28, 0.12, -0.06,  # 18-23 evening peak
)
# Extra evening / afternoon weight that scales with summer heat [-].
_HOUR_SUMMER: Final = (
    0.00, 0.00, 0.00, 0.00, 0.00, 0.00,
    0.00, 0.00, 0.02, 0.05, 0.08, 0.12,
    0.16, 0.20, 0.25, 0.30, 0.36, 0.42,
    0.45, 0.42, 0.32, 0.18, 0.06, 0.00,
)
# Solar output by local hour, 0 at night and 1 at solar noon [-].
_HOUR_SOLAR: Final = (
    0.00, 0.00, 0.00, 0.00, 0.00, 0.00,
    0.00, 0.05, 0.25, 0.55, 0.80, 0.95,
    1.00, 0.95, 0.80, 0.55, 0.25, 0.05,
    0.00, 0.00, 0.00, 0.00, 0.00, 0.00,
)
# Wind output tendency by local hour (West Texas wind blows hardest at night) [-].
_HOUR_WIND: Final = (
    0.50, 0.55, 0.55, 0.55, 0.50, 0.40,
    0.25, 0.05, -0.10, -0.20, -0.25, -0.25,
    -0.25, -0.25, -0.25, -0.20, -0.15, -0.05,
    0.05, 0.15, 0.25, 0.35, 0.40, 0.45,
)


def example_series(
    seed: int = 7, start: str = "2025-01-01T00:00:00-06:00", hours: int = 8760
) -> dict[str, pd.DataFrame]:
    """Generate the example scenario's input series.

    Parameters
    ----------
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same series on
        any machine.
    start
        First hour of the series, ISO 8601 with a UTC offset (hour beginning).
    hours
        Number of hourly rows [h].

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``{"prices.csv": hourly, "bitcoin.csv": daily}``. Both frames start with a
        ``timestamp`` column (timezone-aware, UTC). The values are already rounded to the
        precision :func:`write_example` writes.

        ``prices.csv`` holds ``price_usd_per_mwh`` (real-time energy price [$/MWh]),
        ``rrs_usd_per_mw_per_h`` and ``ecrs_usd_per_mw_per_h`` (ancillary-service prices
        [$/MW/h]), ``gpu_spot_usd_per_mwh`` (GPU spot price for capacity above contract
        [$/MWh]) and ``carbon_kg_per_mwh`` (grid carbon intensity [kg CO2/MWh]).

        ``bitcoin.csv`` holds, per UTC day from the day of the first hour to the day of the
        last hour inclusive, ``btc_usd`` (BTC price [$/BTC]), ``difficulty`` (network
        difficulty [-]) and ``fees_btc_per_block`` (transaction fees [BTC/block]).

    Raises
    ------
    ValueError
        If ``start`` has no UTC offset or ``hours`` is not positive.
    """
    first = pd.Timestamp(start)
    if first.tzinfo is None:
        raise ValueError(f"start {start!r} needs a UTC offset, e.g. '-06:00'")
    if hours < 1:
        raise ValueError(f"hours must be positive, got {hours}")
    rng = np.random.default_rng(seed)
    stamps = pd.date_range(first.tz_convert("UTC"), periods=hours, freq="h")
    prices = _hourly(rng, stamps)
    days = pd.date_range(stamps[0].floor("D"), stamps[-1].floor("D"), freq="D")
    bitcoin = _daily(rng, days)
    return {"prices.csv": prices, "bitcoin.csv": bitcoin}


def write_example(folder: str | Path, seed: int = 7) -> list[Path]:
    """Write the example scenario's CSV files.

    Parameters
    ----------
    folder
        Folder to write into; created if missing.
    seed
        Seed passed to :func:`example_series`.

    Returns
    -------
    list[pathlib.Path]
        The files written, ``prices.csv`` then ``bitcoin.csv``.

    Notes
    -----
    Timestamps are written as ISO 8601 UTC with a ``Z`` (``2025-01-01T06:00:00Z``), floats
    in plain notation with a fixed number of decimals, lines end in ``\\n``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    formats = {"prices.csv": PRICE_COLUMNS, "bitcoin.csv": BITCOIN_COLUMNS}
    written = []
    for name, frame in example_series(seed=seed).items():
        path = folder / name
        path.write_bytes(_to_csv(frame, formats[name]).encode("utf-8"))
        written.append(path)
    return written


# --------------------------------------------------------------------------- hourly series


def _hourly(rng: np.random.Generator, stamps: pd.DatetimeIndex) -> pd.DataFrame:
    """Hourly energy, ancillary, GPU spot and carbon series (see :func:`example_series`)."""
    n = len(stamps)
    local = stamps.tz_convert(TIMEZONE)
    hour = np.asarray(local.hour)
    day = _local_day_number(local)  # 0, 1, ... per local calendar day
    year_frac = (np.asarray(local.day_of_year) - 1 + hour / 24.0) / 365.25
    summer = _bump(year_frac, 0.56, 0.085)  # peaks late July
    spring = _bump(year_frac, 0.27, 0.075) + 0.6 * _bump(year_frac, 0.82, 0.05)  # Apr, Oct
    winter = _bump(year_frac, 0.04, 0.06)  # mid January
    solar_season = 0.55 + 0.45 * _bump(year_frac, 0.47, 0.18)
    h_shape = np.asarray(_HOUR_SHAPE)[hour]
    h_summer = np.asarray(_HOUR_SUMMER)[hour]
    h_solar = np.asarray(_HOUR_SOLAR)[hour]
    h_wind = np.asarray(_HOUR_WIND)[hour]

    # Random drivers, drawn in a fixed order.
    z_hour = rng.standard_normal(n)  # short-lived price noise
    z_day = rng.standard_normal(int(day[-1]) + 1)  # weather regime per local day
    z_wind = rng.standard_normal(n)  # wind
    z_rrs = rng.standard_normal(n)
    z_ecrs = rng.standard_normal(n)
    z_gpu = rng.standard_normal(n)
    z_carbon = rng.standard_normal(n)

    wind = _ar1(z_wind, 0.965) + h_wind  # ~N(0,1) plus the night bias [-]
    noise = 0.11 * _ar1(z_hour, 0.8) + 0.13 * _ar1(z_day, 0.7)[day]
    log_level = (
        math.log(28.0)
        + 0.30 * summer
        + 0.12 * winter
        - 0.08 * spring
        + h_shape
        + 0.55 * summer * h_summer
        - (0.18 + 0.35 * spring) * h_solar * solar_season
        - 0.12 * wind
        + noise
    )
    positive = np.exp(log_level)
    # Renewable surplus (windy nights, sunny middays, above all in spring) pushes the price
    # down and, when large, below zero; the softplus keeps it smooth.
    surplus_index = 0.95 * wind + 1.5 * spring * (0.6 + h_solar) + 0.9 * h_solar * solar_season
    surplus = 14.0 * _softplus(2.2 * (surplus_index - 2.2))
    price = positive - surplus
    negative = price < 0.0
    price = np.where(negative, -_NEGATIVE_FLOOR * -np.expm1(price / _NEGATIVE_FLOOR), price)

    price = _apply_scarcity(rng, price, stamps, local, day)
    price = np.minimum(price, _PRICE_CAP)

    # Ancillary services: a log-normal base with an evening lift, plus a share of the
    # energy price above ~60 $/MWh (scarcity lifts both markets at once).
    evening = np.asarray(_HOUR_SUMMER)[hour] + 0.1
    scarcity = np.maximum(price - 60.0, 0.0)
    rrs = np.exp(math.log(1.7) + 0.45 * _ar1(z_rrs, 0.7) + 0.9 * evening) + 0.11 * scarcity
    ecrs = np.exp(math.log(2.3) + 0.45 * _ar1(z_ecrs, 0.7) + 0.9 * evening) + 0.14 * scarcity

    # GPU spot price: smooth, busiest in US business hours, bounded softly to 90-150.
    business = np.cos(2.0 * np.pi * (hour - 14.0) / 24.0)
    gpu_raw = 120.0 + 9.0 * business + 7.0 * _ar1(z_gpu, 0.998)
    gpu = 120.0 + 30.0 * np.tanh((gpu_raw - 120.0) / 30.0)

    # Carbon intensity: gas on the margin in the evening, low under sun and wind.
    carbon_raw = (
        455.0
        + 60.0 * h_summer
        - 140.0 * h_solar * solar_season
        - 55.0 * wind
        + 18.0 * _ar1(z_carbon, 0.9)
    )
    carbon = 400.0 + 150.0 * np.tanh((carbon_raw - 400.0) / 150.0)

    return pd.DataFrame(
        {
            "timestamp": stamps,
            "price_usd_per_mwh": _finish(price, 2),
            "rrs_usd_per_mw_per_h": _finish(rrs, 2),
            "ecrs_usd_per_mw_per_h": _finish(ecrs, 2),
            "gpu_spot_usd_per_mwh": _finish(gpu, 2),
            "carbon_kg_per_mwh": _finish(carbon, 1),
        }
    )


def _apply_scarcity(
    rng: np.random.Generator,
    price: np.ndarray,
    stamps: pd.DatetimeIndex,
    local: pd.DatetimeIndex,
    day: np.ndarray,
) -> np.ndarray:
    """Add heat-wave and cold-snap scarcity events to an hourly price [$/MWh].

    Each event lifts the whole local day and puts a spike of height ``M`` [$/MWh] on a peak
    hour, falling off by a factor 0.45 per hour either side. Per local calendar year: one
    event on each coincident-peak hour, six more on other summer evenings and a cold snap of
    two or three days between mid January and mid February with a morning and an evening
    spike on each day.
    """
    price = price.copy()
    index = np.arange(len(price))
    start = stamps[0]
    events: list[tuple[int, float]] = []  # (hour index of the peak, spike height)
    lifted: list[tuple[int, float]] = []  # (local day number, price multiplier)
    day_of_date = {d: int(k) for d, k in zip(local.date, day)}

    for year in sorted(set(local.year)):
        cp_days = set()
        for text in CP_INTERVALS:
            cp = pd.Timestamp(text)
            if cp.tz_convert(TIMEZONE).year != year:
                continue
            height = _log_uniform(rng, 700.0, 2500.0)
            k = int((cp.tz_convert("UTC") - start) // pd.Timedelta(hours=1))
            if 0 <= k < len(price):
                events.append((k, height))
                lifted.append((int(day[k]), 1.5))
                cp_days.add(local[k].date())

        # Six more heat-wave evenings between 15 June and 15 September.
        summer_days = [
            d for d in pd.date_range(f"{year}-06-15", f"{year}-09-15", freq="D").date
            if d not in cp_days
        ]
        # Six distinct days: the smallest of one uniform key per day (a plain draw whose
        # stream is stable, unlike Generator.choice without replacement).
        keys = rng.uniform(size=len(summer_days))
        picks = np.argsort(keys, kind="stable")[:6]
        for p in sorted(int(i) for i in picks):
            peak_hour = int(rng.integers(18, 21))
            height = _log_uniform(rng, 500.0, 5000.0)
            date = summer_days[p]
            k = _hour_index(local, date, peak_hour)
            if k is not None:
                events.append((k, height))
                lifted.append((day_of_date[date], 1.4))

        # One winter cold snap of two or three days.
        first = pd.Timestamp(f"{year}-01-12") + pd.Timedelta(days=int(rng.integers(0, 32)))
        length = int(rng.integers(2, 4))
        for offset in range(length):
            date = (first + pd.Timedelta(days=offset)).date()
            for peak_hour in (8, 19):
                height = _log_uniform(rng, 900.0, 6000.0)
                k = _hour_index(local, date, peak_hour)
                if k is not None:
                    events.append((k, height))
            if date in day_of_date:
                lifted.append((day_of_date[date], 3.0))

    for d, factor in lifted:
        on_day = day == d
        price[on_day] = np.where(price[on_day] > 0.0, price[on_day] * factor, price[on_day])
        price[on_day] = np.maximum(price[on_day], 20.0 * factor)
    for k, height in events:
        near = np.abs(index - k) <= 5
        spike = height * 0.45 ** np.abs(index[near] - k)
        price[near] = np.maximum(price[near], spike)
    return price


def _hour_index(local: pd.DatetimeIndex, date: object, hour: int) -> int | None:
    """Position of local ``date`` at ``hour`` in ``local``, or None if absent."""
    hits = np.flatnonzero((local.date == date) & (np.asarray(local.hour) == hour))
    return int(hits[0]) if len(hits) else None


# ---------------------------------------------------------------------------- daily series


def _daily(rng: np.random.Generator, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Daily BTC price, difficulty and fees (see :func:`example_series`)."""
    n = len(days)
    z_btc = rng.standard_normal(n)
    z_fee = rng.standard_normal(n)
    fee_day = rng.uniform(size=n)
    fee_high = rng.uniform(0.3, 0.8, size=n)
    phase = int(rng.integers(1, 15))  # days until the first difficulty adjustment
    z_diff = rng.standard_normal(n // 14 + 2)

    # BTC: geometric random walk, daily volatility 2.5 %, drift +0.06 %/day.
    step = 0.0006 - 0.5 * 0.025**2 + 0.025 * z_btc
    step[0] = 0.0
    btc = _finish(95000.0 * np.exp(np.cumsum(step)), 2)

    # Fees: mostly 0.02-0.1 BTC/block, ~3 % of days 0.3-0.8.
    fees = 0.045 * np.exp(0.3 * z_fee)
    fees = np.clip(fees, 0.02, 0.1)
    fees = np.where(fee_day < 0.03, fee_high, fees)
    fees = _finish(fees, 4)

    # Difficulty: a step every 14 days by a factor drawn around +2 % +/- 4 %, plus a lean
    # that pulls the hashprice back towards 52 $/PH/day (miners plug in or idle hardware);
    # each step is kept within -4 % .. +10 %.
    difficulty = np.empty(n)
    current = 1.1e14
    adjustment = 0
    for i in range(n):
        if i >= phase and (i - phase) % 14 == 0:
            hashprice = _hashprice(current, 3.125 + 0.05, float(btc[i - 1]))
            lean = 0.5 * math.log(hashprice / 52.0)
            change = min(max(0.02 + 0.02 * float(z_diff[adjustment]) + lean, -0.04), 0.10)
            current = float(round(current * (1.0 + round(change, _QUANTUM))))
            adjustment += 1
        difficulty[i] = current

    return pd.DataFrame(
        {
            "timestamp": days,
            "btc_usd": btc,
            "difficulty": difficulty,
            "fees_btc_per_block": fees,
        }
    )


def _hashprice(difficulty: float, btc_per_block: float, btc_usd: float) -> float:
    """Hashprice [$/PH/day] for a difficulty [-], block reward [BTC] and price [$/BTC]."""
    return 86400e15 / (difficulty * 2.0**32) * btc_per_block * btc_usd


# --------------------------------------------------------------------------------- helpers


def _bump(year_frac: np.ndarray, centre: float, width: float) -> np.ndarray:
    """Periodic Gaussian bump over the year, 1 at ``centre`` [year fraction]."""
    distance = (year_frac - centre + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (distance / width) ** 2)


def _ar1(shocks: np.ndarray, phi: float) -> np.ndarray:
    """AR(1) filter with unit stationary variance, started in its stationary state."""
    out = np.empty(len(shocks))
    scale = math.sqrt(1.0 - phi * phi)
    value = float(shocks[0])
    out[0] = value
    for i in range(1, len(shocks)):
        value = phi * value + scale * float(shocks[i])
        out[i] = value
    return out


def _softplus(x: np.ndarray) -> np.ndarray:
    """Smooth ``max(x, 0)``."""
    return np.logaddexp(0.0, x)


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """One draw, log-uniform between ``low`` and ``high``."""
    return float(low * (high / low) ** rng.uniform())


def _local_day_number(local: pd.DatetimeIndex) -> np.ndarray:
    """0 for the first local calendar day in ``local``, 1 for the next, ..."""
    dates = np.asarray(local.date)
    new_day = np.concatenate([[0], (dates[1:] != dates[:-1]).astype(int)])
    return np.cumsum(new_day)


def _finish(values: np.ndarray, decimals: int) -> np.ndarray:
    """Quantise to 1e-6 (absorbing last-bit library differences), round, drop ``-0.0``."""
    return np.round(np.round(np.asarray(values, dtype=float), _QUANTUM), decimals) + 0.0


def _to_csv(frame: pd.DataFrame, columns: tuple[tuple[str, int], ...]) -> str:
    """CSV text: ISO 8601 UTC timestamps with ``Z``, fixed decimals, ``\\n`` line ends."""
    stamps = frame["timestamp"].dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    cells = [list(stamps)]
    for name, decimals in columns:
        cells.append([f"{v:.{decimals}f}" for v in frame[name].to_numpy(dtype=float)])
    header = ",".join(["timestamp"] + [name for name, _ in columns])
    lines = [header] + [",".join(row) for row in zip(*cells)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    target = sys.argv[1] if len(sys.argv) > 1 else "scenarios/example"
    for written in write_example(target):
        print(written)
