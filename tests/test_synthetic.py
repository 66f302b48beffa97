"""Tests of the synthetic example data (optimiser.synthetic) and the committed CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser.synthetic import CP_INTERVALS, example_series, write_example

EXAMPLE = Path(__file__).resolve().parents[1] / "scenarios" / "example"
LOCAL = "America/Chicago"
S21_J_PER_TH = 17.5
S19JPRO_J_PER_TH = 29.5
SUBSIDY_BTC = 3.125


@pytest.fixture(scope="module")
def series() -> dict[str, pd.DataFrame]:
    return example_series()


@pytest.fixture(scope="module")
def prices() -> pd.DataFrame:
    frame = pd.read_csv(EXAMPLE / "prices.csv")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


@pytest.fixture(scope="module")
def bitcoin() -> pd.DataFrame:
    frame = pd.read_csv(EXAMPLE / "bitcoin.csv")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame


def hashprice(b: pd.DataFrame) -> pd.Series:
    """Hashprice [$/PH/day]."""
    d, f, p = b["difficulty"], b["fees_btc_per_block"], b["btc_usd"]
    return 86400e15 / (d * 2**32) * (SUBSIDY_BTC + f) * p


def revenue_per_mwh(b: pd.DataFrame, j_per_th: float) -> pd.Series:
    """Gross mining revenue [$/MWh] of a miner with efficiency ``j_per_th`` [J/TH]."""
    d, f, p = b["difficulty"], b["fees_btc_per_block"], b["btc_usd"]
    return 3.6e21 / (j_per_th * d * 2**32) * (SUBSIDY_BTC + f) * p


# ------------------------------------------------------------------ reproducibility, files


def test_regenerated_files_are_byte_identical(tmp_path: Path) -> None:
    written = write_example(tmp_path / "new")
    assert [p.name for p in written] == ["prices.csv", "bitcoin.csv"]
    for path in written:
        assert path.read_bytes() == (EXAMPLE / path.name).read_bytes(), path.name


def test_same_seed_same_series_other_seed_differs(series: dict[str, pd.DataFrame]) -> None:
    again = example_series(seed=7)
    for name in series:
        pd.testing.assert_frame_equal(series[name], again[name])
    other = example_series(seed=8)
    assert not other["prices.csv"]["price_usd_per_mwh"].equals(
        series["prices.csv"]["price_usd_per_mwh"]
    )


def test_series_equal_what_is_written(
    series: dict[str, pd.DataFrame], prices: pd.DataFrame, bitcoin: pd.DataFrame
) -> None:
    for name, read in (("prices.csv", prices), ("bitcoin.csv", bitcoin)):
        made = series[name]
        assert list(made.columns) == list(read.columns)
        assert (made["timestamp"] == read["timestamp"]).all()
        for column in made.columns[1:]:
            np.testing.assert_array_equal(made[column].to_numpy(), read[column].to_numpy())


def test_file_format() -> None:
    lines = (EXAMPLE / "prices.csv").read_bytes().split(b"\n")
    assert lines[0] == (
        b"timestamp,price_usd_per_mwh,rrs_usd_per_mw_per_h,ecrs_usd_per_mw_per_h,"
        b"gpu_spot_usd_per_mwh,carbon_kg_per_mwh"
    )
    assert lines[1].startswith(b"2025-01-01T06:00:00Z,")
    assert lines[-1] == b"" and b"\r" not in b"".join(lines)
    text = (EXAMPLE / "prices.csv").read_text() + (EXAMPLE / "bitcoin.csv").read_text()
    assert "e+" not in text and "e-" not in text and "-0.00," not in text
    btc_lines = (EXAMPLE / "bitcoin.csv").read_text().splitlines()
    assert btc_lines[0] == "timestamp,btc_usd,difficulty,fees_btc_per_block"
    assert btc_lines[1] == "2025-01-01T00:00:00Z,95000.00,110000000000000.0," + (
        btc_lines[1].split(",")[-1]
    )


def test_hourly_rows_without_gaps(prices: pd.DataFrame) -> None:
    raw = pd.read_csv(EXAMPLE / "prices.csv", dtype={"timestamp": str})["timestamp"]
    assert raw.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00Z").all()  # offset (Z) on every row
    stamps = prices["timestamp"]
    assert len(stamps) == 8760
    assert stamps.iloc[0] == pd.Timestamp("2025-01-01T00:00:00-06:00")
    assert (stamps.diff().iloc[1:] == pd.Timedelta(hours=1)).all()
    assert stamps.iloc[-1] + pd.Timedelta(hours=1) == pd.Timestamp("2026-01-01T00:00:00-06:00")
    assert not prices.isna().any().any()


def test_daily_rows_cover_every_hour(prices: pd.DataFrame, bitcoin: pd.DataFrame) -> None:
    days = bitcoin["timestamp"]
    assert days.iloc[0] == pd.Timestamp("2025-01-01T00:00:00Z")
    assert days.iloc[-1] == pd.Timestamp("2026-01-01T00:00:00Z")
    assert len(days) == 366
    assert (days.diff().iloc[1:] == pd.Timedelta(days=1)).all()
    assert set(prices["timestamp"].dt.floor("D")) <= set(days)
    assert not bitcoin.isna().any().any()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="offset"):
        example_series(start="2025-01-01T00:00:00")
    with pytest.raises(ValueError, match="positive"):
        example_series(hours=0)


# ------------------------------------------------------------------------- energy price


def test_energy_price_statistics(prices: pd.DataFrame) -> None:
    p = prices["price_usd_per_mwh"]
    assert 25.0 <= p.median() <= 35.0
    assert 25.0 <= p.mean() <= 45.0
    assert 150 <= (p < 0).sum() <= 400
    assert -35.0 <= p.min() < -20.0
    assert 10 <= (p > 1000).sum() <= 30
    assert 2 <= (p >= 3000).sum() <= 10
    assert p.max() <= 5000.0


def test_energy_price_shape(prices: pd.DataFrame) -> None:
    p = prices["price_usd_per_mwh"]
    local = prices["timestamp"].dt.tz_convert(LOCAL)
    month, hour = local.dt.month, local.dt.hour
    by_hour = p.groupby(hour).median()
    assert by_hour.loc[18:21].min() > by_hour.loc[[0, 1, 2, 3, 11, 12, 13]].max()
    assert by_hour.idxmax() in range(18, 22)
    summer = p[month.isin([6, 7, 8])].median()
    spring = p[month.isin([3, 4, 5])].median()
    assert summer > 1.3 * spring
    negative = p < 0
    spring_or_autumn = month.isin([3, 4, 5, 10, 11])
    night_or_midday = hour.isin(list(range(0, 7)) + list(range(9, 16)) + [22, 23])
    assert (negative & spring_or_autumn).sum() > 0.6 * negative.sum()
    assert (negative & night_or_midday).sum() > 0.8 * negative.sum()


def test_spikes_on_summer_evenings_and_one_cold_snap(prices: pd.DataFrame) -> None:
    p = prices["price_usd_per_mwh"]
    local = prices["timestamp"].dt.tz_convert(LOCAL)[p > 1000]
    summer = local.dt.month.isin([6, 7, 8, 9])
    assert local[summer].dt.hour.between(15, 22).all()
    winter = local[~summer]
    assert winter.dt.month.isin([1, 2]).all() and len(winter) > 0
    snap_days = winter.dt.normalize().unique()
    assert 1 <= len(snap_days) <= 3
    assert (snap_days.max() - snap_days.min()) <= pd.Timedelta(days=2)


def test_coincident_peaks_are_top_priced_hours(prices: pd.DataFrame) -> None:
    p = prices.set_index("timestamp")["price_usd_per_mwh"]
    threshold = p.quantile(0.98)
    for text in CP_INTERVALS:
        assert p.loc[pd.Timestamp(text)] >= threshold, text


# ----------------------------------------------------------- ancillary, GPU spot, carbon


def test_ancillary_prices(prices: pd.DataFrame) -> None:
    p = prices["price_usd_per_mwh"]
    rrs, ecrs = prices["rrs_usd_per_mw_per_h"], prices["ecrs_usd_per_mw_per_h"]
    assert 1.0 <= rrs.median() <= 3.0
    assert 1.0 <= ecrs.median() <= 4.0
    assert ecrs.mean() > rrs.mean()
    assert (rrs > 0).all() and (ecrs > 0).all()
    assert 100.0 <= rrs.max() <= 5000.0 and 100.0 <= ecrs.max() <= 5000.0
    assert rrs[p > 1000].min() > 20.0  # spikes together with energy
    assert np.corrcoef(rrs, p)[0, 1] > 0.5


def test_gpu_spot_and_carbon(prices: pd.DataFrame) -> None:
    gpu = prices["gpu_spot_usd_per_mwh"]
    assert gpu.between(90.0, 150.0).all()
    assert gpu.diff().abs().max() < 5.0  # smooth
    carbon = prices["carbon_kg_per_mwh"]
    assert carbon.between(250.0, 550.0).all()
    hour = prices["timestamp"].dt.tz_convert(LOCAL).dt.hour
    assert carbon[hour.isin([12, 13])].median() < carbon[hour.isin([18, 19, 20])].median()


# ------------------------------------------------------------------------------ bitcoin


def test_bitcoin_series(bitcoin: pd.DataFrame) -> None:
    btc = bitcoin["btc_usd"]
    assert btc.iloc[0] == 95000.0
    assert 0.02 <= np.log(btc).diff().std() <= 0.03
    d = bitcoin["difficulty"]
    assert d.iloc[0] == 1.1e14 and (d == d.round()).all()
    changes = np.flatnonzero(d.diff().fillna(0.0).to_numpy() != 0.0)
    assert len(changes) >= 24 and (np.diff(changes) == 14).all()
    factors = d.iloc[changes].to_numpy() / d.iloc[changes - 1].to_numpy() - 1.0
    assert factors.min() >= -0.04 - 1e-9 and factors.max() <= 0.10 + 1e-9
    fees = bitcoin["fees_btc_per_block"]
    high = fees > 0.2
    assert fees[~high].between(0.02, 0.1).all()
    assert fees[high].between(0.3, 0.8).all() and 1 <= high.sum() <= 30


def test_hashprice_and_miner_revenue(bitcoin: pd.DataFrame) -> None:
    hp = hashprice(bitcoin)
    assert 40.0 <= hp.median() <= 65.0
    assert hp.quantile(0.05) >= 37.0 and hp.quantile(0.95) <= 67.0
    s21 = revenue_per_mwh(bitcoin, S21_J_PER_TH)
    s19 = revenue_per_mwh(bitcoin, S19JPRO_J_PER_TH)
    assert 95.0 <= s21.median() <= 150.0
    assert s21.quantile(0.05) >= 88.0 and s21.quantile(0.95) <= 160.0
    assert 55.0 <= s19.median() <= 90.0
    assert s19.quantile(0.05) >= 52.0 and s19.quantile(0.95) <= 95.0
    # Same formula in $/MWh as the hashprice in $/PH/day: 1 PH/s at e J/TH uses 24e-3*e MWh/day.
    np.testing.assert_allclose(s21, hp / (24e-3 * S21_J_PER_TH), rtol=1e-12)


def test_old_fleet_curtailed_in_expensive_hours_new_only_in_spikes(
    prices: pd.DataFrame, bitcoin: pd.DataFrame
) -> None:
    """Breakeven with the example scenario's pool fee, PUE, O&M and energy adder."""
    day = bitcoin.set_index("timestamp")
    hourly_day = prices["timestamp"].dt.floor("D")
    cost = prices["price_usd_per_mwh"].to_numpy() + 4.0
    s21 = revenue_per_mwh(day, S21_J_PER_TH).loc[hourly_day].to_numpy() * 0.98 / 1.05 - 2.0
    s19 = revenue_per_mwh(day, S19JPRO_J_PER_TH).loc[hourly_day].to_numpy() * 0.98 / 1.08 - 3.0
    s19_off = (cost > s19).mean()
    s21_off = (cost > s21).mean()
    assert 0.03 <= s19_off <= 0.30
    assert s21_off <= 0.03
    assert s21_off < s19_off / 3
