"""Tests of :mod:`optimiser.bitcoin`: subsidy, hashprice and ASIC revenue per MWh."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from optimiser.bitcoin import (
    DEFAULT_HALVING_DATES,
    asic_revenue_usd_per_mwh,
    hashprice_usd_per_ph_day,
    subsidy_btc,
)

# e = 17.5 J/TH, D = 1e14, S = 3.125 BTC, F = 0, P = 100,000 $/BTC
E, D, S, F, P = 17.5, 1e14, 3.125, 0.0, 100_000.0


def hours(first: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(first), periods=n, freq="h")


# ------------------------------------------------------------------------------------------------
# subsidy
# ------------------------------------------------------------------------------------------------


def test_subsidy_around_2024_halving() -> None:
    idx = hours("2024-04-19T23:00Z", 3)  # 23:00, 00:00 (before 00:09:27), 01:00
    assert subsidy_btc(idx).tolist() == [6.25, 6.25, 3.125]


def test_subsidy_hour_at_exact_halving_moment_is_halved() -> None:
    idx = pd.DatetimeIndex([pd.Timestamp("2024-04-20T00:09:26Z"),
                            pd.Timestamp("2024-04-20T00:09:27Z")])
    assert subsidy_btc(idx).tolist() == [6.25, 3.125]


def test_subsidy_over_eras() -> None:
    idx = pd.DatetimeIndex(pd.to_datetime(
        ["2010-01-01T00:00Z", "2013-01-01T00:00Z", "2017-01-01T00:00Z", "2021-01-01T00:00Z",
         "2025-01-01T00:00Z", "2029-01-01T00:00Z"], utc=True))
    assert subsidy_btc(idx).tolist() == [50.0, 25.0, 12.5, 6.25, 3.125, 1.5625]
    assert subsidy_btc(idx).dtype == np.float64


def test_subsidy_other_timezone_and_custom_dates() -> None:
    idx = hours("2024-04-19T19:00-05:00", 2)  # = 2024-04-20T00:00Z and 01:00Z
    assert subsidy_btc(idx).tolist() == [6.25, 3.125]
    custom = ("2024-01-01T00:00:00+01:00", "2023-01-01T00:00:00Z")  # any order
    assert subsidy_btc(hours("2023-12-31T22:00Z", 3), custom).tolist() == [25.0, 12.5, 12.5]
    assert DEFAULT_HALVING_DATES[3] == "2024-04-20T00:09:27Z"


def test_subsidy_rejects_naive() -> None:
    with pytest.raises(ValueError):
        subsidy_btc(pd.date_range("2024-01-01", periods=2, freq="h"))
    with pytest.raises(ValueError):
        subsidy_btc(hours("2024-01-01T00:00Z", 2), ["2024-01-01T00:00:00"])


# ------------------------------------------------------------------------------------------------
# hashprice and revenue
# ------------------------------------------------------------------------------------------------


def test_hashprice_hand_check() -> None:
    expected = 86400e15 / (1e14 * 2**32) * 3.125 * 1e5
    got = float(hashprice_usd_per_ph_day(D, S, F, P))
    assert got == pytest.approx(expected, rel=1e-15)
    assert round(got, 2) == 62.86


def test_revenue_hand_check() -> None:
    expected = 3.6e21 / (17.5 * 1e14 * 4294967296) * 3.125 * 1e5
    got = float(asic_revenue_usd_per_mwh(E, D, S, F, P))
    assert got == pytest.approx(expected, rel=1e-15)
    assert round(got, 2) == 149.68


def test_revenue_pool_fee_and_fees() -> None:
    base = float(asic_revenue_usd_per_mwh(E, D, S, F, P))
    assert float(asic_revenue_usd_per_mwh(E, D, S, F, P, pool_fee=0.02)) == pytest.approx(
        base * 0.98, rel=1e-15)
    # fees add to the subsidy: S + F = 2 * S doubles the revenue
    assert float(asic_revenue_usd_per_mwh(E, D, S, S, P)) == pytest.approx(2 * base, rel=1e-15)


def test_revenue_is_hashprice_per_mw_hour() -> None:
    # 1 MW at e J/TH = 1e6/e TH/s = 1e3/e PH/s; an hour is 1/24 day
    hp = float(hashprice_usd_per_ph_day(D, S, F, P))
    rev = float(asic_revenue_usd_per_mwh(E, D, S, F, P))
    assert rev == pytest.approx(hp * (1000 / E) / 24, rel=1e-14)


@given(
    e=st.floats(5.0, 200.0),
    d=st.floats(1e6, 1e16),
    s=st.sampled_from([50.0, 25.0, 12.5, 6.25, 3.125, 1.5625]),
    f=st.floats(0.0, 5.0),
    p=st.floats(100.0, 1e6),
)
def test_identity_holds_everywhere(e: float, d: float, s: float, f: float, p: float) -> None:
    hp = float(hashprice_usd_per_ph_day(d, s, f, p))
    rev = float(asic_revenue_usd_per_mwh(e, d, s, f, p))
    assert rev == pytest.approx(hp * (1000 / e) / 24, rel=1e-12)


def test_vectorised_broadcast() -> None:
    d = np.array([1e14, 2e14, 4e14])
    rev = asic_revenue_usd_per_mwh(E, d, S, F, P)
    assert rev.shape == (3,)
    np.testing.assert_allclose(rev * d, rev[0] * 1e14, rtol=1e-15)
    hp = hashprice_usd_per_ph_day(pd.Series(d), np.full(3, S), 0.0, [P, P, 2 * P])
    np.testing.assert_allclose(hp, [hp[0], hp[0] / 2, hp[0] / 2], rtol=1e-15)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_validation(bad: float) -> None:
    with pytest.raises(ValueError, match="efficiency"):
        asic_revenue_usd_per_mwh(bad, D, S, F, P)
    with pytest.raises(ValueError, match="difficulty"):
        asic_revenue_usd_per_mwh(E, np.array([D, bad]), S, F, P)
    with pytest.raises(ValueError, match="difficulty"):
        hashprice_usd_per_ph_day(bad, S, F, P)


def test_pool_fee_out_of_range() -> None:
    with pytest.raises(ValueError, match="pool_fee"):
        asic_revenue_usd_per_mwh(E, D, S, F, P, pool_fee=1.5)


# ------------------------------------------------------------------------------------------------
# real data (skipped when absent)
# ------------------------------------------------------------------------------------------------

DATA_DIR = Path(os.environ.get("DISPATCH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.mark.realdata
@pytest.mark.skipif(not (DATA_DIR / "btc_hashprice_daily.csv").exists(),
                    reason="shared data not available")
def test_hashprice_matches_published_daily_2024() -> None:
    df = pd.read_csv(DATA_DIR / "btc_hashprice_daily.csv")
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    year = df[df["timestamp"].dt.year == 2024]
    assert len(year) == 366
    hp = hashprice_usd_per_ph_day(year["difficulty"], year["subsidy_btc_per_block"],
                                  year["avg_fees_btc_per_block"], year["btc_usd"])
    np.testing.assert_allclose(hp, year["hashprice_usd_per_ph_per_day"], rtol=1e-3)


@pytest.mark.realdata
@pytest.mark.skipif(not (DATA_DIR / "btc_blocks_daily.csv").exists(),
                    reason="shared data not available")
def test_subsidy_matches_block_heights_2024() -> None:
    # 01:00 of each day carries the subsidy of the day's first block (the 2024 halving block
    # 840,000 was the first block of 2024-04-20, mined at 00:09:27, so 00:00 would still be 6.25)
    blocks = pd.read_csv(DATA_DIR / "btc_blocks_daily.csv")
    blocks["timestamp"] = pd.to_datetime(blocks["timestamp"], utc=True, format="ISO8601")
    first_height = blocks["block_height_end_of_day"].shift(1) + 1
    expected = 50.0 / 2.0 ** (first_height // 210_000)
    got = subsidy_btc(pd.DatetimeIndex(blocks["timestamp"]) + pd.Timedelta(hours=1))
    ok = (blocks["timestamp"].dt.year == 2024) & first_height.notna()
    np.testing.assert_array_equal(got[ok.to_numpy()], expected[ok].to_numpy())
