"""Bitcoin block rewards, hashprice and ASIC revenue per MWh.

The expected reward of hashrate ``H`` is its share of the network's hashrate times the block
reward. The network hashrate implied by difficulty ``D`` at the 600 s target is
``D * 2**32 / 600`` hashes per second, so one hash per second earns, per second,

    (S + F) * P / (D * 2**32)            [$/s per H/s]

with ``S`` the block subsidy [BTC/block], ``F`` the fees [BTC/block] and ``P`` the BTC price
[$/BTC]. From it:

* hashprice: ``86400e15 / (D * 2**32) * (S + F) * P``  [$/PH/day] (1 PH/s = 1e15 H/s, a day
  is 86,400 s);
* ASIC revenue per MWh of IT energy at efficiency ``e`` [J/TH]: 1 MWh = 3.6e9 J buys
  ``3.6e9 / e`` TH = ``3.6e21 / e`` hashes, so ``3.6e21 / (e * D * 2**32) * (S + F) * P``
  [$/MWh].

Hence ``revenue_usd_per_mwh = hashprice_usd_per_ph_day * (1000 / e) / 24``: one MW at ``e``
J/TH is ``1e6 / e`` TH/s = ``1e3 / e`` PH/s, and an hour is 1/24 of a day.

Worked example (``e`` = 17.5 J/TH, ``D`` = 1e14, ``S`` = 3.125 BTC, ``F`` = 0, ``P`` = 100,000
$/BTC): hashprice = 86400e15 / (1e14 * 2**32) * 3.125 * 1e5 = 62.86 $/PH/day; revenue =
3.6e21 / (17.5 * 1e14 * 2**32) * 3.125 * 1e5 = 149.68 $/MWh = 62.86 * (1000 / 17.5) / 24.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "DEFAULT_HALVING_DATES",
    "GENESIS_BLOCK_TIME",
    "KNOWN_HALVING_DATES",
    "PROJECTED_HALVING_DATES",
    "INITIAL_SUBSIDY_BTC",
    "subsidy_btc",
    "hashprice_usd_per_ph_day",
    "asic_revenue_usd_per_mwh",
]

KNOWN_HALVING_DATES: tuple[str, ...] = (
    "2012-11-28T15:24:38Z",
    "2016-07-09T16:46:13Z",
    "2020-05-11T19:23:43Z",
    "2024-04-20T00:09:27Z",
)
"""Moments of the halvings that have happened: the times of blocks 210,000, 420,000, 630,000 and
840,000. [UTC]"""

PROJECTED_HALVING_DATES: tuple[str, ...] = ("2028-04-15T00:00:00Z",)
"""Estimated moments of the halvings to come (block 1,050,000). [UTC]"""

DEFAULT_HALVING_DATES: tuple[str, ...] = KNOWN_HALVING_DATES + PROJECTED_HALVING_DATES
"""Moments of the block-subsidy halvings (blocks 210,000 k); the 2028 one is an estimate. [UTC]"""

GENESIS_BLOCK_TIME: str = "2009-01-03T18:15:05Z"
"""Time of the first block; no halving can precede it. [UTC]"""

INITIAL_SUBSIDY_BTC: float = 50.0
"""Block subsidy before the first halving. [BTC/block]"""

_TWO_POW_32: float = 4294967296.0
"""Expected hashes per unit of difficulty to find a block. [H]"""

_HASHPRICE_SCALE: float = 86400e15 / _TWO_POW_32
"""Seconds per day times hashes per PH, over 2**32 (division by a power of two is exact)."""

_REVENUE_SCALE: float = 3.6e21 / _TWO_POW_32
"""Joules per MWh times hashes per TH, over 2**32 (division by a power of two is exact)."""

ArrayLike = npt.ArrayLike


def subsidy_btc(
    timestamps: pd.DatetimeIndex,
    halving_dates: Sequence[str | pd.Timestamp] = DEFAULT_HALVING_DATES,
) -> np.ndarray:
    """Block subsidy in force at each hour start.

    The subsidy is 50 BTC halved once for every halving moment at or before the timestamp
    (the hour start): an hour that starts before the halving moment keeps the old subsidy
    for the whole hour.

    Parameters
    ----------
    timestamps
        Hour starts, tz-aware.
    halving_dates
        Moments of the halvings, tz-aware (ISO 8601 with an offset or ``Z``), in any order.

    Returns
    -------
    numpy.ndarray
        Block subsidy per timestamp, float64. [BTC/block]

    Raises
    ------
    ValueError
        If ``timestamps`` or a halving date has no time zone.

    Examples
    --------
    >>> idx = pd.DatetimeIndex(["2024-04-20T00:00Z", "2024-04-20T01:00Z"])
    >>> subsidy_btc(idx).tolist()
    [6.25, 3.125]
    """
    idx = pd.DatetimeIndex(timestamps)
    if idx.tz is None:
        raise ValueError("timestamps must be tz-aware (UTC)")
    moments = []
    for d in halving_dates:
        t = pd.Timestamp(d)
        if t.tzinfo is None:
            raise ValueError(f"halving date {d!r} has no time zone; give an offset or Z")
        moments.append(t.tz_convert("UTC").as_unit("ns").value)
    halvings = np.sort(np.asarray(moments, dtype=np.int64))
    ts_ns = idx.tz_convert("UTC").as_unit("ns").asi8
    count = np.searchsorted(halvings, ts_ns, side="right")
    return INITIAL_SUBSIDY_BTC * np.ldexp(1.0, -count)


def hashprice_usd_per_ph_day(
    difficulty: ArrayLike,
    subsidy_btc: ArrayLike,
    fees_btc_per_block: ArrayLike,
    btc_usd: ArrayLike,
) -> np.ndarray:
    """Expected revenue of one PH/s for one day (before pool fees).

    ``86400e15 / (D * 2**32) * (S + F) * P``

    Parameters
    ----------
    difficulty
        Network difficulty ``D``, > 0. [-]
    subsidy_btc
        Block subsidy ``S``. [BTC/block]
    fees_btc_per_block
        Average transaction fees per block ``F``. [BTC/block]
    btc_usd
        Bitcoin price ``P``. [$/BTC]

    Returns
    -------
    numpy.ndarray
        Hashprice, float64, broadcast over the inputs. [$/PH/day]

    Raises
    ------
    ValueError
        If any difficulty is not > 0.

    Examples
    --------
    >>> round(float(hashprice_usd_per_ph_day(1e14, 3.125, 0.0, 100_000.0)), 2)
    62.86
    """
    d = _positive(difficulty, "difficulty")
    reward = np.add(np.asarray(subsidy_btc, dtype=np.float64),
                    np.asarray(fees_btc_per_block, dtype=np.float64))
    return _HASHPRICE_SCALE / d * reward * np.asarray(btc_usd, dtype=np.float64)


def asic_revenue_usd_per_mwh(
    efficiency_j_per_th: ArrayLike,
    difficulty: ArrayLike,
    subsidy_btc: ArrayLike,
    fees_btc_per_block: ArrayLike,
    btc_usd: ArrayLike,
    pool_fee: ArrayLike = 0.0,
) -> np.ndarray:
    """Expected mining revenue per MWh of IT energy consumed by ASICs.

    ``3.6e21 / (e * D * 2**32) * (S + F) * P * (1 - pool_fee)``, equal to
    ``hashprice_usd_per_ph_day * (1000 / e) / 24 * (1 - pool_fee)``.

    Parameters
    ----------
    efficiency_j_per_th
        ASIC efficiency ``e``, > 0. [J/TH]
    difficulty
        Network difficulty ``D``, > 0. [-]
    subsidy_btc
        Block subsidy ``S``. [BTC/block]
    fees_btc_per_block
        Average transaction fees per block ``F``. [BTC/block]
    btc_usd
        Bitcoin price ``P``. [$/BTC]
    pool_fee
        Share of the reward kept by the pool, in [0, 1]. [-]

    Returns
    -------
    numpy.ndarray
        Revenue, float64, broadcast over the inputs. [$/MWh]

    Raises
    ------
    ValueError
        If any efficiency or difficulty is not > 0, or a pool fee is outside [0, 1].

    Examples
    --------
    >>> round(float(asic_revenue_usd_per_mwh(17.5, 1e14, 3.125, 0.0, 100_000.0)), 2)
    149.68
    """
    e = _positive(efficiency_j_per_th, "efficiency_j_per_th")
    d = _positive(difficulty, "difficulty")
    fee = np.asarray(pool_fee, dtype=np.float64)
    if not np.all((fee >= 0.0) & (fee <= 1.0)):
        raise ValueError("pool_fee must be between 0 and 1")
    reward = np.add(np.asarray(subsidy_btc, dtype=np.float64),
                    np.asarray(fees_btc_per_block, dtype=np.float64))
    return _REVENUE_SCALE / e / d * reward * np.asarray(btc_usd, dtype=np.float64) * (1.0 - fee)


def _positive(values: ArrayLike, name: str) -> np.ndarray:
    """Return ``values`` as float64, raising ValueError unless every value is > 0."""
    arr = np.asarray(values, dtype=np.float64)
    bad = ~(arr > 0.0)  # also catches NaN
    if np.any(bad):
        first = arr[bad].flat[0] if arr.ndim else arr
        raise ValueError(f"{name} must be > 0 (got {float(first)!r})")
    return arr
