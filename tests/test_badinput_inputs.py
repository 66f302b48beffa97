"""Bad input that used to pass as good ("never silently wrong", issue 11): the reader's side.

Each case breaks one thing in a copy of ``scenarios/example`` (or of a tiny scenario written
here), runs ``dispatch run`` in-process on one week, and checks: exit code 2, a message naming
the file and the line and column (or the scenario key), nothing on stdout, nothing written to
``--out``. Before this work every case below either ran to exit 0 with a wrong answer (fees
silently 0, an objective of NaN, a subsidy of 50 BTC in 2025, a stray 16:15 row averaged into
its hour) or ended in a traceback.

The positive tests at the end check, with numbers worked by hand, the two opt-in features that
make some of these files usable: ``[columns]`` (read a column under another name) and
``[fill]`` (fill gaps of a stated length), and that what they did is reported in the warnings.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser.cli import EXIT_INPUT, main
from optimiser.errors import InputError

WEEK = ("--start", "2025-03-03T00:00:00-06:00", "--end", "2025-03-10T00:00:00-06:00")
HOUR = "2025-03-04T12:00:00Z"  # a row of prices.csv inside the week
DAY = "2025-03-04T00:00:00Z"  # a row of bitcoin.csv inside the week


# ------------------------------------------------------------------------------------------------
# breaking a folder
# ------------------------------------------------------------------------------------------------


def toml(f: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` in the folder's scenario.toml (``old`` must be there)."""
    path = f / "scenario.toml"
    text = path.read_text()
    assert old in text, f"{old!r} not in scenario.toml"
    path.write_text(text.replace(old, new, 1))


def add_table(f: Path, text: str) -> None:
    """Insert TOML before the first table (top-level keys) or at the end (a table)."""
    path = f / "scenario.toml"
    body = path.read_text()
    if text.lstrip().startswith("["):
        path.write_text(body + "\n" + text + "\n")
    else:
        path.write_text(body.replace("\n[site]", "\n" + text + "\n\n[site]", 1))


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def line_of(path: Path, timestamp: str) -> int:
    """1-based line of the row starting with ``timestamp`` (the header is line 1)."""
    for i, line in enumerate(lines(path), start=1):
        if line.startswith(timestamp + ","):
            return i
    raise AssertionError(f"{timestamp} not in {path}")


def set_field(path: Path, timestamp: str, column: str, value: str) -> int:
    """Set one field of the row starting with ``timestamp``; return its line."""
    rows = lines(path)
    k = rows[0].split(",").index(column)
    n = line_of(path, timestamp)
    fields = rows[n - 1].split(",")
    fields[k] = value
    rows[n - 1] = ",".join(fields)
    path.write_text("\n".join(rows) + "\n")
    return n


def rename_column(path: Path, old: str, new: str) -> None:
    rows = lines(path)
    header = rows[0].split(",")
    header[header.index(old)] = new
    path.write_text("\n".join([",".join(header), *rows[1:]]) + "\n")


def frame(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def quarter_hour_prices(f: Path, drop: Callable[[pd.Timestamp, int], bool] = lambda t, q: False) -> None:
    """Move the example's energy price into rt.csv at 15-minute resolution (the hourly price in
    each quarter), leaving out the quarters ``drop(hour, quarter)`` selects."""
    p = frame(f / "prices.csv")
    rows = []
    for ts, price in zip(p["timestamp"], p["price_usd_per_mwh"]):
        t = pd.Timestamp(ts)
        for q in range(4):
            if not drop(t, q):
                rows.append(f"{(t + pd.Timedelta(minutes=15 * q)):%Y-%m-%dT%H:%M:%SZ},{price}")
    (f / "rt.csv").write_text("timestamp,price_usd_per_mwh\n" + "\n".join(rows) + "\n")
    p.drop(columns="price_usd_per_mwh").to_csv(f / "prices.csv", index=False)
    toml(f, 'inputs = ["prices.csv"', 'inputs = ["rt.csv", "prices.csv"')


def ercot_rtm(path: Path, start_utc: str, hours: int, drop: Callable[[int, int], bool] = lambda h, i: False) -> None:
    """An ERCOT real-time SPP extract for HB_WEST: ``hours`` hours from ``start_utc`` (no DST
    change inside), 30 $/MWh, leaving out the intervals ``drop(hour index, interval)`` selects."""
    rows = ["Delivery Date,Delivery Hour,Delivery Interval,Repeated Hour Flag,Settlement Point Name,"
            "Settlement Point Type,Settlement Point Price"]
    for h in range(hours):
        local = (pd.Timestamp(start_utc) + pd.Timedelta(hours=h)).tz_convert("America/Chicago")
        for i in range(1, 5):
            if not drop(h, i):
                rows.append(f"{local:%m/%d/%Y},{local.hour + 1},{i},N,HB_WEST,HU,30.00")
    path.write_text("\n".join(rows) + "\n")


# ------------------------------------------------------------------------------------------------
# the catalogue: each breaker breaks a copy of the example and returns what the message must say
# ------------------------------------------------------------------------------------------------

S = "scenario.toml"


# --- numbers in scenario.toml: finite, of the right type, in a plausible range ------------------


def ppa_price_nan(f: Path) -> list[str]:
    toml(f, "price_usd_per_mwh = 32.0", "price_usd_per_mwh = nan")
    return [S, "key 'ppa.price_usd_per_mwh'", "nan is not a finite number"]


def ppa_price_infinite(f: Path) -> list[str]:
    toml(f, "price_usd_per_mwh = 32.0", "price_usd_per_mwh = -inf")
    return [S, "key 'ppa.price_usd_per_mwh'", "-inf is not a finite number"]


def ppa_price_1e300(f: Path) -> list[str]:
    toml(f, "price_usd_per_mwh = 32.0", "price_usd_per_mwh = 1e300")
    return [S, "key 'ppa.price_usd_per_mwh'", "1e+300 is out of range", "<= 100,000 $/MWh"]


def demand_charge_infinite(f: Path) -> list[str]:
    toml(f, "usd_per_mw_month = 9000.0", "usd_per_mw_month = inf")
    return [S, "key 'demand_charge.usd_per_mw_month'", "inf is not a finite number"]


def import_limit_1e300(f: Path) -> list[str]:
    toml(f, "import_mw = 300", "import_mw = 1e300")
    return [S, "key 'site.import_mw'", "1e+300 is out of range", "MW"]


def units_true(f: Path) -> list[str]:
    toml(f, "capacity_mw = 150", "units = true")
    return [S, "key 'asic[0].units'", "true is a boolean, not a number"]


def capacity_true(f: Path) -> list[str]:
    toml(f, "capacity_mw = 60\ncontract_mw", "capacity_mw = true\ncontract_mw")
    return [S, "key 'gpu[0].capacity_mw'", "true is a boolean, not a number"]


def units_fractional(f: Path) -> list[str]:
    toml(f, "capacity_mw = 150", "units = 2.5")
    return [S, "key 'asic[0].units'", "2.5 is not a whole number"]


def number_as_text(f: Path) -> list[str]:
    toml(f, "import_mw = 300", 'import_mw = "300"')
    return [S, "key 'site.import_mw'", "'300' is text, not a number"]


def negative_om(f: Path) -> list[str]:
    toml(f, "om_usd_per_mwh = 2.0", "om_usd_per_mwh = -2.0")
    return [S, "key 'asic[0].om_usd_per_mwh'", "-2 is out of range", ">= 0"]


def negative_energy_adder(f: Path) -> list[str]:
    toml(f, "energy_adder_usd_per_mwh = 4.0", "energy_adder_usd_per_mwh = -4.0")
    return [S, "key 'site.energy_adder_usd_per_mwh'", "-4 is out of range"]


def negative_contract_price(f: Path) -> list[str]:
    toml(f, "contract_usd_per_mw_per_h = 210.0", "contract_usd_per_mw_per_h = -210.0")
    return [S, "key 'gpu[0].contract_usd_per_mw_per_h'", "-210 is out of range", "$/MW/h"]


def negative_spot_price(f: Path) -> list[str]:
    toml(f, 'spot_usd_per_mwh = "gpu_spot_usd_per_mwh"', "spot_usd_per_mwh = -120.0")
    return [S, "key 'gpu[0].spot_usd_per_mwh'", "-120 is out of range"]


def spot_price_true(f: Path) -> list[str]:
    toml(f, 'spot_usd_per_mwh = "gpu_spot_usd_per_mwh"', "spot_usd_per_mwh = true")
    return [S, "key 'gpu[0].spot_usd_per_mwh'", "true is a boolean"]


def pue_below_one(f: Path) -> list[str]:
    toml(f, "pue = 1.05", "pue = 0.95")
    return [S, "key 'asic[0].pue'", "0.95 is out of range", ">= 1"]


def availability_percent(f: Path) -> list[str]:
    toml(f, "availability = 0.999", "availability = 99.9")
    return [S, "key 'gpu[0].availability'", "99.9 is out of range", "<= 1"]


def pool_fee_percent(f: Path) -> list[str]:
    toml(f, "pool_fee = 0.02", "pool_fee = 2")
    return [S, "key 'asic[0].pool_fee'", "2 is out of range"]


def ramp_zero(f: Path) -> list[str]:
    toml(f, "ramp_mw_per_h = 200", "ramp_mw_per_h = 0")
    return [S, "key 'site.ramp_mw_per_h'", "0 is out of range", "> 0"]


def negative_coincident_peak(f: Path) -> list[str]:
    toml(f, "usd_per_mw_year = 60000.0", "usd_per_mw_year = -60000.0")
    return [S, "key 'coincident_peak.usd_per_mw_year'", "-60000 is out of range", "<= 1,000,000 $/MW-year"]


def efficiency_in_j_per_gh(f: Path) -> list[str]:
    toml(f, 'model = "antminer-s21"', "efficiency_j_per_th = 0.0175")
    return [S, "key 'asic[0].efficiency_j_per_th'", "0.0175 is out of range", "J/TH"]


# --- halving dates --------------------------------------------------------------------------------


def halvings_leave_out_the_past(f: Path) -> list[str]:
    add_table(f, '[bitcoin]\nhalving_dates = ["2028-04-15T00:00:00Z"]')
    return [S, "key 'bitcoin.halving_dates'", "leaves out the past halvings of 2012-11-28T15:24:38Z",
            "2024-04-20T00:09:27Z", "16 times too large", 'halving_dates_mode = "add"', '"replace"']


def halvings_leave_out_one(f: Path) -> list[str]:
    add_table(f, '[bitcoin]\nhalving_dates = ["2012-11-28T15:24:38Z", "2016-07-09T16:46:13Z", '
                 '"2020-05-11T19:23:43Z", "2028-04-15T00:00:00Z"]')
    return [S, "key 'bitcoin.halving_dates'", "past halving of 2024-04-20T00:09:27Z", "2 times too large"]


def halvings_added_twice(f: Path) -> list[str]:
    add_table(f, '[bitcoin]\nhalving_dates = ["2024-04-19T19:00:00-05:00", "2028-04-15T00:00:00Z"]\n'
                 'halving_dates_mode = "add"')
    return [S, "key 'bitcoin.halving_dates'", "'2024-04-19T19:00:00-05:00' is already one of them",
            "halve the subsidy twice"]


def halving_listed_twice(f: Path) -> list[str]:
    add_table(f, '[bitcoin]\nhalving_dates = ["2028-04-15T00:00:00Z", "2028-04-15T06:00:00Z"]\n'
                 'halving_dates_mode = "replace"')
    return [S, "key 'bitcoin.halving_dates'", "same halving listed twice"]


def halving_before_genesis(f: Path) -> list[str]:
    add_table(f, '[bitcoin]\nhalving_dates = ["2008-10-31T00:00:00Z"]\nhalving_dates_mode = "replace"')
    return [S, "key 'bitcoin.halving_dates'", "before Bitcoin's first block"]


def halving_mode_without_dates(f: Path) -> list[str]:
    add_table(f, '[bitcoin]\nhalving_dates_mode = "add"')
    return [S, "key 'bitcoin.halving_dates_mode'", "needs 'halving_dates'"]


def halving_dates_and_subsidy_column(f: Path) -> list[str]:
    b = frame(f / "bitcoin.csv")
    b["subsidy_btc"] = "3.125"
    b.to_csv(f / "bitcoin.csv", index=False)
    add_table(f, '[bitcoin]\nhalving_dates = ["2012-11-28T15:24:38Z", "2016-07-09T16:46:13Z", '
                 '"2020-05-11T19:23:43Z", "2024-04-20T00:09:27Z"]')
    return [S, "key 'bitcoin.halving_dates'", "subsidy_btc column", "instead of the halving dates"]


# --- files none of whose columns is read ------------------------------------------------------------


def fees_file_per_day(f: Path) -> list[str]:
    b = frame(f / "bitcoin.csv")
    b[["timestamp", "fees_btc_per_block"]].rename(columns={"fees_btc_per_block": "fees_btc_per_day"}).to_csv(
        f / "fees.csv", index=False)
    b.drop(columns="fees_btc_per_block").to_csv(f / "bitcoin.csv", index=False)
    toml(f, '"bitcoin.csv"]', '"bitcoin.csv", "fees.csv"]')
    return ["fees.csv: none of its columns (timestamp, fees_btc_per_day) is read by the model",
            "did you mean fees_btc_per_block (for fees_btc_per_day)?", "[columns]"]


def fees_column_misnamed(f: Path) -> list[str]:
    rename_column(f / "bitcoin.csv", "fees_btc_per_block", "fee_btc_per_block")
    return ["bitcoin.csv, column 'fee_btc_per_block'", "looks like 'fees_btc_per_block'", "default"]


def unused_file(f: Path) -> list[str]:
    (f / "carbon.csv").write_text("timestamp,carbon_kg_per_mwh\n2025-03-03T06:00:00Z,400\n")
    toml(f, '"bitcoin.csv"]', '"bitcoin.csv", "carbon.csv"]')
    return ["carbon.csv: none of its columns (timestamp, carbon_kg_per_mwh) is read by the model. "
            "The model reads: price_usd_per_mwh"]


def ercot_column_not_read(f: Path) -> list[str]:
    ercot_rtm(f / "rtm.csv", "2025-03-03T06:00:00Z", 7 * 24)
    toml(f, '"bitcoin.csv"]', '"bitcoin.csv", {file = "rtm.csv", format = "ercot-rtm-spp", '
                              'settlement_point = "HB_WEST", column = "rtm_usd_per_mwh"}]')
    return ["rtm.csv", "key 'inputs[2].column'", "gives the column 'rtm_usd_per_mwh', which the model does not read"]


def required_column_misspelt(f: Path) -> list[str]:
    rename_column(f / "prices.csv", "rrs_usd_per_mw_per_h", "rrs_usd_per_mw_h")
    return ["column 'rrs_usd_per_mw_per_h'", "not found in any input file",
            "did you mean 'rrs_usd_per_mw_h' in prices.csv?"]


# --- sub-hourly rows must fill their hour ------------------------------------------------------------


def stray_quarter_in_hourly_file(f: Path) -> list[str]:
    rows = lines(f / "prices.csv")
    n = line_of(f / "prices.csv", "2025-03-04T16:00:00Z")
    rows.insert(n, rows[n - 1].replace("16:00:00Z", "16:15:00Z"))
    (f / "prices.csv").write_text("\n".join(rows) + "\n")
    return [f"prices.csv, line {n + 1}, column 'timestamp'", "2025-03-04T16:15Z is off the file's hourly grid"]


def three_of_four_quarters(f: Path) -> list[str]:
    quarter_hour_prices(f, lambda t, q: t == pd.Timestamp(HOUR) and q == 3)
    n = line_of(f / "rt.csv", "2025-03-04T12:00:00Z")
    return [f"rt.csv, line {n}, column 'timestamp'", "the hour 2025-03-04T12:00Z has 3 of the 4 rows",
            "15-minute grid", "missing :45", f"lines {n}, {n + 1}, {n + 2}"]


def one_of_four_quarters(f: Path) -> list[str]:
    quarter_hour_prices(f, lambda t, q: t == pd.Timestamp(HOUR) and q > 0)
    n = line_of(f / "rt.csv", "2025-03-04T12:00:00Z")
    return [f"rt.csv, line {n}, column 'timestamp'", "has 1 of the 4 rows", "missing :15, :30, :45"]


def local_time_stray_row(f: Path) -> list[str]:
    p = frame(f / "prices.csv")
    local = pd.to_datetime(p["timestamp"]).dt.tz_convert("America/Chicago").dt.strftime("%Y-%m-%dT%H:%M:%S")
    out = pd.DataFrame({"timestamp": local, "price_usd_per_mwh": p["price_usd_per_mwh"]})
    out = out[(p["timestamp"] >= "2025-03-01") & (p["timestamp"] < "2025-04-01")]  # no fall-back hour
    k = int(np.flatnonzero(out["timestamp"] == "2025-03-04T06:00:00")[0])
    stray = pd.DataFrame({"timestamp": ["2025-03-04T06:30:00"], "price_usd_per_mwh": ["999"]})
    out = pd.concat([out.iloc[: k + 1], stray, out.iloc[k + 1:]])
    out.to_csv(f / "local.csv", index=False)
    p.drop(columns="price_usd_per_mwh").to_csv(f / "prices.csv", index=False)
    toml(f, 'inputs = ["prices.csv"', 'inputs = [{file = "local.csv", format = "local-time"}, "prices.csv"')
    return [f"local.csv, line {k + 3}, column 'timestamp'", "2025-03-04T12:30Z is off the file's hourly grid"]


def ercot_hour_with_three_intervals(f: Path) -> list[str]:
    ercot_rtm(f / "rtm.csv", "2025-03-03T06:00:00Z", 7 * 24, drop=lambda h, i: h == 30 and i == 2)
    drop_price(f)
    toml(f, 'inputs = ["prices.csv"', 'inputs = [{file = "rtm.csv", format = "ercot-rtm-spp"}, "prices.csv"')
    return ["rtm.csv", "column 'Delivery Interval'", "2025-03-04 hour ending 7 has 3 of its 4 intervals"]


def drop_price(f: Path) -> None:
    frame(f / "prices.csv").drop(columns="price_usd_per_mwh").to_csv(f / "prices.csv", index=False)


# --- a column in two roles ------------------------------------------------------------------------


def spot_price_is_difficulty(f: Path) -> list[str]:
    toml(f, 'spot_usd_per_mwh = "gpu_spot_usd_per_mwh"', 'spot_usd_per_mwh = "difficulty"')
    return [S, "key 'gpu[0].spot_usd_per_mwh'", "names the column 'difficulty'", "network difficulty",
            "one role"]


def reserve_price_is_timestamp(f: Path) -> list[str]:
    toml(f, 'price_column = "rrs_usd_per_mw_per_h"', 'price_column = "timestamp"')
    return [S, "key 'reserve[0].price_column'", "names the time column 'timestamp'"]


def mapping_onto_a_bitcoin_column(f: Path) -> list[str]:
    add_table(f, '[columns]\nfees_btc_per_block = "btc_usd"')
    return [S, "key 'columns.fees_btc_per_block'", "maps the file column 'btc_usd'",
            "read as itself (the contract column 'btc_usd')"]


def mapping_onto_a_named_column(f: Path) -> list[str]:
    add_table(f, '[columns]\nprice_usd_per_mwh = "gpu_spot_usd_per_mwh"')
    return [S, "key 'columns.price_usd_per_mwh'", "read as itself (key 'gpu[0].spot_usd_per_mwh')"]


def mapping_one_source_twice(f: Path) -> list[str]:
    add_table(f, '[columns]\nfees_btc_per_block = "fees"\nsubsidy_btc = "fees"')
    return [S, "key 'columns.subsidy_btc'", "which key 'columns.fees_btc_per_block' maps too"]


def ercot_price_into_btc_usd(f: Path) -> list[str]:
    ercot_rtm(f / "rtm.csv", "2025-03-03T06:00:00Z", 7 * 24)
    toml(f, '"bitcoin.csv"]', '"bitcoin.csv", {file = "rtm.csv", format = "ercot-rtm-spp", column = "btc_usd"}]')
    return [S, "key 'inputs[2].column'", "names the column 'btc_usd'", "price of Bitcoin"]


# --- values out of range in the CSV files ---------------------------------------------------------------


def negative_fees(f: Path) -> list[str]:
    n = set_field(f / "bitcoin.csv", DAY, "fees_btc_per_block", "-0.02")
    return [f"bitcoin.csv, line {n}, column 'fees_btc_per_block'", "-0.02 is below 0 BTC/block", "not negative"]


def fees_per_day_in_the_per_block_column(f: Path) -> list[str]:
    n = set_field(f / "bitcoin.csv", DAY, "fees_btc_per_block", "61.3")
    return [f"bitcoin.csv, line {n}, column 'fees_btc_per_block'", "61.3 is above 50 BTC/block", "a day?"]


def zero_btc_price(f: Path) -> list[str]:
    n = set_field(f / "bitcoin.csv", DAY, "btc_usd", "0")
    return [f"bitcoin.csv, line {n}, column 'btc_usd'", "0 is not above 0 $/BTC"]


def difficulty_below_one(f: Path) -> list[str]:
    n = set_field(f / "bitcoin.csv", DAY, "difficulty", "1.1e-4")
    return [f"bitcoin.csv, line {n}, column 'difficulty'", "0.00011 is below 1", "least difficulty"]


def negative_reserve_price(f: Path) -> list[str]:
    n = set_field(f / "prices.csv", HOUR, "rrs_usd_per_mw_per_h", "-1.5")
    return [f"prices.csv, line {n}, column 'rrs_usd_per_mw_per_h'", "-1.5 is below 0 $/MW/h"]


def negative_gpu_spot_price(f: Path) -> list[str]:
    n = set_field(f / "prices.csv", HOUR, "gpu_spot_usd_per_mwh", "-113")
    return [f"prices.csv, line {n}, column 'gpu_spot_usd_per_mwh'", "-113 is below 0 $/MWh"]


def price_in_dollars_per_kwh_times_1e6(f: Path) -> list[str]:
    n = set_field(f / "prices.csv", HOUR, "price_usd_per_mwh", "150000")
    return [f"prices.csv, line {n}, column 'price_usd_per_mwh'", "150000 is above 100,000 $/MWh"]


def subsidy_above_50(f: Path) -> list[str]:
    b = frame(f / "bitcoin.csv")
    b["subsidy_btc"] = "3.125"
    b.loc[b["timestamp"] == DAY, "subsidy_btc"] = "312500000"  # satoshis
    b.to_csv(f / "bitcoin.csv", index=False)
    return [f"bitcoin.csv, line {line_of(f / 'bitcoin.csv', DAY)}, column 'subsidy_btc'", "3.125e+08 is above 50 BTC/block"]


# --- [columns] and [fill] used wrongly --------------------------------------------------------------


def mapping_a_column_not_read(f: Path) -> list[str]:
    add_table(f, '[columns]\ncarbon = "carbon_kg_per_mwh"')
    return [S, "key 'columns.carbon'", "the scenario reads no column 'carbon'"]


def mapping_source_not_found(f: Path) -> list[str]:
    frame(f / "bitcoin.csv").drop(columns="fees_btc_per_block").to_csv(f / "bitcoin.csv", index=False)
    add_table(f, '[columns]\nfees_btc_per_block = "avg_fees_btc_per_block"')
    return [S, "column 'fees_btc_per_block', key 'columns.fees_btc_per_block'",
            "not found in any input file (mapped from 'avg_fees_btc_per_block'"]


def mapping_while_the_column_is_there(f: Path) -> list[str]:
    b = frame(f / "bitcoin.csv")
    b["avg_fees"] = b["fees_btc_per_block"]
    b.to_csv(f / "bitcoin.csv", index=False)
    add_table(f, '[columns]\nfees_btc_per_block = "avg_fees"')
    return ["bitcoin.csv", "key 'columns.fees_btc_per_block'", "has a column 'fees_btc_per_block' of its own"]


def gap_longer_than_allowed(f: Path) -> list[str]:
    rows = lines(f / "prices.csv")
    n = line_of(f / "prices.csv", HOUR)
    del rows[n - 1 : n + 2]  # 12:00, 13:00, 14:00
    (f / "prices.csv").write_text("\n".join(rows) + "\n")
    add_table(f, '[fill]\nprice_usd_per_mwh = { method = "linear", max_gap_h = 2 }')
    return ["prices.csv", "column 'price_usd_per_mwh'", "key 'fill.price_usd_per_mwh'",
            "a gap of 3 h (2025-03-04T12:00Z .. 2025-03-04T14:00Z) is longer than max_gap_h = 2 h"]


def fill_a_column_not_read(f: Path) -> list[str]:
    add_table(f, '[fill]\ncarbon_kg_per_mwh = { method = "zero", max_gap_h = 2 }')
    return [S, "key 'fill.carbon_kg_per_mwh'", "the scenario reads no column 'carbon_kg_per_mwh'"]


def fill_difficulty_with_zero(f: Path) -> list[str]:
    add_table(f, '[fill]\ndifficulty = { method = "zero", max_gap_h = 48 }')
    return [S, "key 'fill.difficulty.method'", "a zero fill would put a value out of range", "0 is below 1"]


def fill_method_unknown(f: Path) -> list[str]:
    add_table(f, '[fill]\nprice_usd_per_mwh = { method = "spline", max_gap_h = 2 }')
    return [S, "key 'fill.price_usd_per_mwh.method'", "'previous', 'zero' or 'linear'"]


def fill_limit_true(f: Path) -> list[str]:
    add_table(f, '[fill]\nprice_usd_per_mwh = { method = "linear", max_gap_h = true }')
    return [S, "key 'fill.price_usd_per_mwh.max_gap_h'", "true is a boolean"]


def fill_text_is_still_refused(f: Path) -> list[str]:
    n = set_field(f / "prices.csv", HOUR, "price_usd_per_mwh", "n.a.")
    add_table(f, '[fill]\nprice_usd_per_mwh = { method = "linear", max_gap_h = 2 }')
    return [f"prices.csv, line {n}, column 'price_usd_per_mwh'", "value 'n.a.' is not a finite number"]


@dataclass(frozen=True)
class Case:
    breaker: Callable[[Path], list[str]]
    args: tuple[str, ...] = WEEK


CASES: dict[str, Case] = {b.__name__: Case(b) for b in [
    ppa_price_nan, ppa_price_infinite, ppa_price_1e300, demand_charge_infinite, import_limit_1e300,
    units_true, capacity_true, units_fractional, number_as_text, negative_om, negative_energy_adder,
    negative_contract_price, negative_spot_price, spot_price_true, pue_below_one, availability_percent,
    pool_fee_percent, ramp_zero, negative_coincident_peak, efficiency_in_j_per_gh,
    halvings_leave_out_the_past, halvings_leave_out_one, halvings_added_twice, halving_listed_twice,
    halving_before_genesis, halving_mode_without_dates, halving_dates_and_subsidy_column,
    fees_file_per_day, fees_column_misnamed, unused_file, ercot_column_not_read, required_column_misspelt,
    stray_quarter_in_hourly_file, three_of_four_quarters, one_of_four_quarters, local_time_stray_row,
    ercot_hour_with_three_intervals,
    spot_price_is_difficulty, reserve_price_is_timestamp, mapping_onto_a_bitcoin_column,
    mapping_onto_a_named_column, mapping_one_source_twice, ercot_price_into_btc_usd,
    negative_fees, fees_per_day_in_the_per_block_column, zero_btc_price, difficulty_below_one,
    negative_reserve_price, negative_gpu_spot_price, price_in_dollars_per_kwh_times_1e6, subsidy_above_50,
    mapping_a_column_not_read, mapping_source_not_found, mapping_while_the_column_is_there,
    gap_longer_than_allowed, fill_a_column_not_read, fill_difficulty_with_zero, fill_method_unknown,
    fill_limit_true, fill_text_is_still_refused,
]}


def run(capsys: pytest.CaptureFixture[str], folder: Path, out: Path, *args: str) -> tuple[int, str, str]:
    code = main(["run", str(folder), "--out", str(out), *args])
    got = capsys.readouterr()
    return code, got.out, got.err


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name: str, example_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    folder = tmp_path / "scenario"
    shutil.copytree(example_dir, folder)
    expected = case.breaker(folder)
    out = tmp_path / "results"
    code, stdout, stderr = run(capsys, folder, out, *case.args)
    assert code == EXIT_INPUT, stderr
    assert stderr.startswith("dispatch: bad input:"), stderr
    message = stderr.replace("\n  ", " ").replace(str(folder) + "/", "")
    message = " ".join(message.split())
    for text in expected:
        assert " ".join(text.split()) in message, f"{text!r} not in:\n{stderr}"
    assert "Traceback" not in stderr
    assert stdout == ""
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scenario"]


def test_the_catalogue_is_large_and_each_case_distinct() -> None:
    assert len(CASES) >= 35
    assert len({c.breaker for c in CASES.values()}) == len(CASES)


def test_every_problem_is_reported_at_once(example_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Keys, files and collisions in one scenario: one run lists all of them."""
    folder = tmp_path / "scenario"
    shutil.copytree(example_dir, folder)
    want = (ppa_price_nan(folder) + units_true(folder) + negative_om(folder)
            + spot_price_is_difficulty(folder) + availability_percent(folder))
    code = main(["validate", str(folder)])
    err = " ".join(capsys.readouterr().err.replace(str(folder) + "/", "").split())
    assert code == EXIT_INPUT
    assert "5 problems in the input" in err
    for text in want:
        assert text in err, f"{text!r} not in:\n{err}"


def test_csv_problems_of_several_files_at_once(example_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "scenario"
    shutil.copytree(example_dir, folder)
    want = negative_fees(folder) + stray_quarter_in_hourly_file(folder) + negative_reserve_price(folder)
    code = main(["validate", str(folder)])
    err = " ".join(capsys.readouterr().err.split())
    assert code == EXIT_INPUT
    for text in want:
        assert text in err, f"{text!r} not in:\n{err}"


# ------------------------------------------------------------------------------------------------
# what stays accepted
# ------------------------------------------------------------------------------------------------


def test_negative_energy_prices_and_complete_quarter_hours_are_accepted(example_dir: Path, tmp_path: Path) -> None:
    """A negative price (-250 $/MWh, ERCOT's offer floor) is a price, and a complete 15-minute file
    averages to the hour as before."""
    folder = tmp_path / "scenario"
    shutil.copytree(example_dir, folder)
    set_field(folder / "prices.csv", HOUR, "price_usd_per_mwh", "-250")
    quarter_hour_prices(folder)
    sc = optimiser.load_scenario(folder, start=WEEK[1], end=WEEK[3])
    assert sc.data.loc[pd.Timestamp(HOUR), "price_usd_per_mwh"] == -250.0
    assert sc.hours == 168


def test_integers_are_numbers_and_halvings_may_be_written_in_local_time(example_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenario"
    shutil.copytree(example_dir, folder)
    toml(folder, "price_usd_per_mwh = 32.0", "price_usd_per_mwh = 32")
    add_table(folder, '[bitcoin]\nhalving_dates = ["2012-11-28T09:24:38-06:00", "2016-07-09T16:46:13Z", '
                      '"2020-05-11T19:00:00Z", "2024-04-20T00:09:27Z", "2028-04-15T00:00:00Z"]')
    sc = optimiser.load_scenario(folder, start=WEEK[1], end=WEEK[3])
    assert sc.config.ppa.price_usd_per_mwh == 32.0
    assert set(sc.data["subsidy_btc"]) == {3.125}


# ------------------------------------------------------------------------------------------------
# halving modes
# ------------------------------------------------------------------------------------------------


def test_halving_mode_add_adds_to_the_past_halvings(example_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "scenario"
    shutil.copytree(example_dir, folder)
    add_table(folder, '[bitcoin]\nhalving_dates = ["2025-03-05T00:00:00Z"]\nhalving_dates_mode = "add"')
    sc = optimiser.load_scenario(folder, start=WEEK[1], end=WEEK[3])
    subsidy = sc.data["subsidy_btc"]
    assert set(subsidy[subsidy.index < "2025-03-05T00:00Z"]) == {3.125}  # after the four past halvings
    assert set(subsidy[subsidy.index >= "2025-03-05T00:00Z"]) == {1.5625}  # and the one added
    assert not [w for w in sc.warnings if "halving" in w]


def test_halving_mode_replace_is_taken_as_written_and_said(example_dir: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A counterfactual without the 2024 halving: 6.25 BTC in 2025, on purpose, and said so in the
    summary's warnings."""
    folder = tmp_path / "scenario"
    shutil.copytree(example_dir, folder)
    add_table(folder, '[bitcoin]\nhalving_dates = ["2012-11-28T15:24:38Z", "2016-07-09T16:46:13Z", '
                      '"2020-05-11T19:23:43Z"]\nhalving_dates_mode = "replace"')
    out = tmp_path / "results"
    code, _, stderr = run(capsys, folder, out, *WEEK, "-q")
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert any('halving_dates_mode = "replace"' in w and "6.25 BTC" in w and "3.125 BTC" in w
               for w in summary["warnings"]), summary["warnings"]


# ------------------------------------------------------------------------------------------------
# [columns] and [fill], with numbers worked by hand
# ------------------------------------------------------------------------------------------------

# One ASIC MW at 36 J/TH and difficulty 1e20 / 2**32 earns exactly (subsidy + fees) x btc_usd
# $/MWh: 3.6e21 / (36 * 1e20) = 1 (bitcoin.py). With btc_usd 20 $/BTC and the 2025 subsidy of
# 3.125 BTC, that is 62.5 $/MWh, and 72.5 $/MWh with fees of 0.5 BTC a block.
D_UNIT = "23283064365.386962890625"  # 1e20 / 2**32, exactly

TINY_ASIC = """\
name = "tiny asic"
start = "2025-01-01T00:00:00Z"
end = "2025-01-01T03:00:00Z"
inputs = ["prices.csv", "bitcoin.csv"]

[site]
import_mw = 1

[[asic]]
name = "a"
capacity_mw = 1
efficiency_j_per_th = 36
"""


def tiny_asic(tmp_path: Path, fees_column: str) -> Path:
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "scenario.toml").write_text(TINY_ASIC)
    (folder / "prices.csv").write_text("timestamp,price_usd_per_mwh\n" + "".join(
        f"2025-01-01T0{h}:00:00Z,0\n" for h in range(3)))
    (folder / "bitcoin.csv").write_text(f"timestamp,btc_usd,difficulty,{fees_column}\n"
                                        f"2024-12-31T00:00:00Z,20,{D_UNIT},0.5\n")
    return folder


def objective(capsys: pytest.CaptureFixture[str], folder: Path, out: Path) -> tuple[float, list[str]]:
    code, _, stderr = run(capsys, folder, out, "-q")
    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    return summary["objective_usd"], summary["warnings"]


def test_a_mapped_fees_column_earns_its_fees(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """3 h x 1 MW x 0.5 BTC x 20 $/BTC = 30 $ of fees: 217.5 $ against 187.5 $ without them."""
    folder = tiny_asic(tmp_path, "avg_fees_btc_per_block")
    with pytest.raises(InputError, match="'avg_fees_btc_per_block' looks like 'fees_btc_per_block'"):
        optimiser.load_scenario(folder)  # unmapped, the near miss is refused
    add_table(folder, '[columns]\nfees_btc_per_block = "avg_fees_btc_per_block"')
    with_fees, warnings = objective(capsys, folder, tmp_path / "with")
    assert with_fees == pytest.approx(3 * 72.5, rel=1e-9)
    assert warnings == ["bitcoin.csv, column 'avg_fees_btc_per_block': read as 'fees_btc_per_block' ([columns])"]

    rename_column(folder / "bitcoin.csv", "avg_fees_btc_per_block", "note")  # no fees column at all
    toml(folder, '[columns]\nfees_btc_per_block = "avg_fees_btc_per_block"', "")
    without, _ = objective(capsys, folder, tmp_path / "without")
    assert without == pytest.approx(3 * 62.5, rel=1e-9)
    assert with_fees - without == pytest.approx(3 * 1 * 0.5 * 20, rel=1e-9)


TINY_FLEX = """\
name = "tiny flex"
inputs = ["prices.csv"]

[site]
import_mw = 1

[[flex]]
name = "f"
capacity_mw = 1
revenue_usd_per_mwh = 100.0

[fill]
price_usd_per_mwh = {{ method = "{method}", max_gap_h = 2 }}
"""


def tiny_flex(tmp_path: Path, method: str, prices: str) -> Path:
    folder = tmp_path / f"tiny-{method}"
    folder.mkdir()
    (folder / "scenario.toml").write_text(TINY_FLEX.format(method=method))
    (folder / "prices.csv").write_text("timestamp,price_usd_per_mwh\n" + prices)
    return folder


# Six hours, 00:00 .. 05:00, with the price of 01:00 and 02:00 missing (no rows).
GAP_ROWS = ("2025-01-01T00:00:00Z,10\n2025-01-01T03:00:00Z,40\n"
            "2025-01-01T04:00:00Z,50\n2025-01-01T05:00:00Z,60\n")


@pytest.mark.parametrize("method, filled", [("linear", [20.0, 30.0]), ("previous", [10.0, 10.0]),
                                            ("zero", [0.0, 0.0])])
def test_a_two_hour_gap_is_filled_exactly(tmp_path: Path, method: str, filled: list[float]) -> None:
    """10, _, _, 40: the straight line gives exactly 20 and 30."""
    sc = optimiser.load_scenario(tiny_flex(tmp_path, method, GAP_ROWS))
    assert sc.data["price_usd_per_mwh"].tolist() == [10.0, *filled, 40.0, 50.0, 60.0]
    assert sc.warnings == (f"prices.csv, column 'price_usd_per_mwh': 2 hours of the horizon filled ({method}) "
                           "in 1 gap, the longest 2 h (2025-01-01T01:00Z .. 2025-01-01T02:00Z) "
                           "([fill] max_gap_h = 2)",)


def test_the_fill_changes_the_objective_by_the_hand_computed_amount(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The flex load earns 100 $/MWh and pays the price, so it runs every hour (all prices < 100)
    and the objective is the sum of (100 - price): linear 90+80+70+60+50+40 = 390 $, zero
    90+100+100+60+50+40 = 440 $: 50 $ apart, the two filled hours' prices (20 + 30)."""
    linear, warnings = objective(capsys, tiny_flex(tmp_path, "linear", GAP_ROWS), tmp_path / "linear")
    zero, _ = objective(capsys, tiny_flex(tmp_path, "zero", GAP_ROWS), tmp_path / "zero")
    assert linear == pytest.approx(390.0, rel=1e-9)
    assert zero == pytest.approx(440.0, rel=1e-9)
    assert zero - linear == pytest.approx(50.0, rel=1e-9)
    assert warnings and "2 hours of the horizon filled (linear)" in warnings[0]


def test_empty_cells_are_gaps_too(tmp_path: Path) -> None:
    rows = ("2025-01-01T00:00:00Z,10\n2025-01-01T01:00:00Z,\n2025-01-01T02:00:00Z,NaN\n"
            "2025-01-01T03:00:00Z,40\n")
    sc = optimiser.load_scenario(tiny_flex(tmp_path, "linear", rows))
    assert sc.data["price_usd_per_mwh"].tolist() == [10.0, 20.0, 30.0, 40.0]


def test_a_gap_at_the_horizon_start_is_interpolated_from_the_row_before(tmp_path: Path) -> None:
    """The horizon starts in the gap; the file's 00:00 row, outside the horizon, anchors it."""
    folder = tiny_flex(tmp_path, "linear", GAP_ROWS)
    sc = optimiser.load_scenario(folder, start="2025-01-01T02:00:00Z", end="2025-01-01T05:00:00Z")
    assert sc.data["price_usd_per_mwh"].tolist() == [30.0, 40.0, 50.0]


def test_a_gap_with_nothing_before_it_cannot_be_carried(tmp_path: Path) -> None:
    folder = tiny_flex(tmp_path, "previous", GAP_ROWS)
    with pytest.raises(InputError) as err:
        optimiser.load_scenario(folder, start="2024-12-31T23:00:00Z", end="2025-01-01T05:00:00Z")
    (p,) = [p for p in err.value.problems if p.key == "fill.price_usd_per_mwh"]
    assert (p.file, p.column) == ("prices.csv", "price_usd_per_mwh")
    assert "the gap 2024-12-31T23:00Z starts the data: there is no value before it" in p.message


def test_a_step_column_with_an_empty_cell_is_filled(tmp_path: Path) -> None:
    """Daily fees with the 2nd of January empty: linear fill runs from 0.4 (the 1st, in force until
    00:00 on the 2nd) to 0.6 (the 3rd) over the 24 hours of the 2nd: 0.4 + 0.2 k / 25."""
    folder = tiny_asic(tmp_path, "fees_btc_per_block")
    (folder / "bitcoin.csv").write_text(
        f"timestamp,btc_usd,difficulty,fees_btc_per_block\n2025-01-01T00:00:00Z,20,{D_UNIT},0.4\n"
        f"2025-01-02T00:00:00Z,20,{D_UNIT},\n2025-01-03T00:00:00Z,20,{D_UNIT},0.6\n"
        f"2025-01-04T00:00:00Z,20,{D_UNIT},0.6\n")
    (folder / "prices.csv").write_text("timestamp,price_usd_per_mwh\n" + "".join(
        f"{t:%Y-%m-%dT%H:%M:%SZ},0\n" for t in pd.date_range("2025-01-01", periods=72, freq="h", tz="UTC")))
    toml(folder, 'end = "2025-01-01T03:00:00Z"', 'end = "2025-01-04T00:00:00Z"')
    with pytest.raises(InputError, match=r"bitcoin.csv, line 3, column 'fees_btc_per_block': empty value"):
        optimiser.load_scenario(folder)
    add_table(folder, '[fill]\nfees_btc_per_block = { method = "linear", max_gap_h = 24 }')
    sc = optimiser.load_scenario(folder)
    fees = sc.data["fees_btc_per_block"].to_numpy()
    assert (fees[:24] == 0.4).all() and (fees[48:] == 0.6).all()
    np.testing.assert_allclose(fees[24:48], 0.4 + 0.2 * np.arange(1, 25) / 25, rtol=1e-15)
    assert "24 hours of the horizon filled (linear) in 1 gap" in sc.warnings[0]


def test_fill_warnings_survive_replace_and_go_when_the_column_is_replaced(tmp_path: Path) -> None:
    sc = optimiser.load_scenario(tiny_flex(tmp_path, "linear", GAP_ROWS))
    (note,) = sc.warnings
    assert sc.replace(**{"site.import_mw": 2}).warnings == (note,)
    assert sc.with_series(price_usd_per_mwh=5.0).warnings == ()


def test_a_mapped_and_filled_scenario_written_back_reads_the_same(tmp_path: Path) -> None:
    """write_scenario_folder writes the columns as read (renamed, filled): the folder it writes
    has no [columns] or [fill] to apply again, and its notes head scenario.toml."""
    from optimiser.realdata import write_scenario_folder

    folder = tiny_flex(tmp_path, "linear", GAP_ROWS)
    rename_column(folder / "prices.csv", "price_usd_per_mwh", "lmp")
    add_table(folder, '[columns]\nprice_usd_per_mwh = "lmp"')
    sc = optimiser.load_scenario(folder)
    assert sc.data["price_usd_per_mwh"].tolist() == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    out = write_scenario_folder(sc, tmp_path / "written")
    text = (out / "scenario.toml").read_text()
    assert "\n[columns]" not in text and "\n[fill]" not in text
    assert "# note: prices.csv, column 'lmp': read as 'price_usd_per_mwh' ([columns])" in text
    again = optimiser.load_scenario(out)
    assert again.data["price_usd_per_mwh"].tolist() == sc.data["price_usd_per_mwh"].tolist()
