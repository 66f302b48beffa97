"""Tests of :mod:`optimiser.markets`: ERCOT's own SPP extracts and local-time CSVs, read into
UTC hours, selected per input in ``scenario.toml`` or converted by ``dispatch import``.

The ERCOT files are written here in ERCOT's layout (``Delivery Date`` MM/DD/YYYY, ``Delivery
Hour`` = hour ending 1-24 in Central Prevailing Time, ``Delivery Interval`` 1-4, ``Repeated
Hour Flag``, many settlement points per file). The expected UTC hours come from the calendar,
not from the code under test: an operating day's rows, in ERCOT's order (HE1, HE2, [HE2 flag Y],
HE3, ...), are consecutive UTC hours from the day's local midnight.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import optimiser
from optimiser.cli import main
from optimiser.errors import InputError, Problem
from optimiser.inputs import read_inputs
from optimiser.markets import InputSpec, convert, read_ercot_spp

CPT = "America/Chicago"
DATA_DIR = Path(os.environ.get("DISPATCH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))

RTM_HEADER = ["Delivery Date", "Delivery Hour", "Delivery Interval", "Repeated Hour Flag",
              "Settlement Point Name", "Settlement Point Type", "Settlement Point Price"]
DAM_HEADER = ["Delivery Date", "Delivery Hour", "Repeated Hour Flag", "Settlement Point Name",
              "Settlement Point Price"]

SPRING = {date(2024, 3, 10), date(2025, 3, 9)}
"""Spring-forward days: 23 hours, no hour ending 3."""
FALL = {date(2024, 11, 3), date(2025, 11, 2)}
"""Fall-back days: 25 hours, hour ending 2 twice (flag N, then Y)."""

# Local midnight in UTC of the days around each DST change (CST = UTC-6, CDT = UTC-5).
MIDNIGHT_UTC = {
    date(2024, 3, 9): "2024-03-09T06:00Z", date(2024, 3, 10): "2024-03-10T06:00Z",
    date(2024, 3, 11): "2024-03-11T05:00Z",
    date(2024, 11, 2): "2024-11-02T05:00Z", date(2024, 11, 3): "2024-11-03T05:00Z",
    date(2024, 11, 4): "2024-11-04T06:00Z",
    date(2025, 3, 8): "2025-03-08T06:00Z", date(2025, 3, 9): "2025-03-09T06:00Z",
    date(2025, 3, 10): "2025-03-10T05:00Z",
    date(2025, 11, 1): "2025-11-01T05:00Z", date(2025, 11, 2): "2025-11-02T05:00Z",
    date(2025, 11, 3): "2025-11-03T06:00Z",
    date(2024, 7, 1): "2024-07-01T05:00Z",
}
DST_DAYS = sorted(SPRING | FALL)
INTERVAL_OFFSETS = (0.25, -0.5, 1.75, 3.0)
"""Added to an hour's base price in its four 15-minute intervals (mean 1.125). [$/MWh]"""
POINTS = {"HB_NORTH": 3.0, "HB_WEST": 0.0, "LZ_WEST": -7.0}
"""Settlement points written in every file, and the offset of each one's prices. [$/MWh]"""


def ercot_hours(day: date) -> list[tuple[int, str]]:
    """ERCOT's (hour ending, repeated hour flag) of one operating day, in publication order."""
    if day in SPRING:
        return [(h, "N") for h in range(1, 25) if h != 3]
    if day in FALL:
        return [(1, "N"), (2, "N"), (2, "Y")] + [(h, "N") for h in range(3, 25)]
    return [(h, "N") for h in range(1, 25)]


def base_price(k: int) -> float:
    """A price for the k-th hour of a file: varied, with negatives and a spike. [$/MWh]"""
    return [-12.5, 18.25, 31.0, 2999.75, 44.5, 0.0][k % 6] + k


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def native_window(tmp_path: Path, days: list[date], kind: str, name: str = "native.csv", phase: int = 0):
    """Write an ERCOT file (every point in POINTS) for whole operating days.

    Returns the file and the expected HB_WEST hourly series: UTC hour starts (consecutive from
    each day's local midnight, in ERCOT's order) and prices, ``base_price(k + phase)`` for the
    file's k-th hour. [$/MWh]
    """
    rows: list[list[object]] = []
    expect: dict[pd.Timestamp, float] = {}
    k = 0
    for day in days:
        midnight = pd.Timestamp(MIDNIGHT_UTC[day])
        for j, (he, flag) in enumerate(ercot_hours(day)):
            base = base_price(k + phase)
            expect[midnight + pd.Timedelta(hours=j)] = base + (np.mean(INTERVAL_OFFSETS) if kind == "rtm" else 0.0)
            for point, shift in POINTS.items():
                if kind == "rtm":
                    for i, off in enumerate(INTERVAL_OFFSETS, start=1):
                        rows.append([day.strftime("%m/%d/%Y"), he, i, flag, point, "HU", base + shift + off])
                else:
                    rows.append([day.strftime("%m/%d/%Y"), he, flag, point, base + shift])
            k += 1
    path = write_csv(tmp_path / name, RTM_HEADER if kind == "rtm" else DAM_HEADER, rows)
    return path, pd.Series(expect)


def problems_of(exc: pytest.ExceptionInfo[InputError]) -> list[Problem]:
    return exc.value.problems


def local_day_hours(ts_ns: np.ndarray) -> Counter:
    """Hours per local (CPT) calendar day."""
    idx = pd.DatetimeIndex(ts_ns.view("datetime64[ns]")).tz_localize("UTC").tz_convert(CPT)
    return Counter(idx.date)


# ------------------------------------------------------------------------------------------------
# ERCOT files: the DST days of 2024 and 2025
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dam", "rtm"])
@pytest.mark.parametrize("day", DST_DAYS, ids=str)
def test_dst_days_to_utc(tmp_path: Path, day: date, kind: str) -> None:
    days = [day - timedelta(days=1), day, day + timedelta(days=1)]
    path, expect = native_window(tmp_path, days, kind)
    s = read_ercot_spp(path, format=f"ercot-{kind}-spp", settlement_point="HB_WEST")
    n_day = 23 if day in SPRING else 25
    assert len(s.ts_ns) == 48 + n_day
    assert local_day_hours(s.ts_ns) == {days[0]: 24, day: n_day, days[2]: 24}
    got = pd.DatetimeIndex(s.ts_ns.view("datetime64[ns]")).tz_localize("UTC")
    assert list(got) == list(expect.index)
    assert (np.diff(s.ts_ns) == 3_600_000_000_000).all()  # contiguous: no gap, no repeat
    np.testing.assert_allclose(s.values, expect.to_numpy(), rtol=0, atol=1e-9)
    assert s.settlement_point == "HB_WEST"
    # Line of each hour: header, 24 hours of the day before, then HE1 and HE2 of the day.
    per_hour = len(POINTS) * (4 if kind == "rtm" else 1)
    first_of_day = 2 + 24 * per_hour
    west = list(POINTS).index("HB_WEST") * (4 if kind == "rtm" else 1)
    assert s.lines[24] == first_of_day + west
    assert s.lines[25] == first_of_day + per_hour + west


@pytest.mark.parametrize("kind", ["dam", "rtm"])
def test_fall_back_repeated_hour_is_the_second_cst_occurrence(tmp_path: Path, kind: str) -> None:
    path, expect = native_window(tmp_path, [date(2024, 11, 3)], kind)
    s = read_ercot_spp(path, format=f"ercot-{kind}-spp", settlement_point="HB_WEST")
    got = pd.Series(s.values, index=pd.DatetimeIndex(s.ts_ns.view("datetime64[ns]")).tz_localize("UTC"))
    # HE1 00:00 CDT = 05Z; HE2 flag N 01:00 CDT = 06Z; HE2 flag Y 01:00 CST = 07Z; HE3 02:00 CST = 08Z
    mean = np.mean(INTERVAL_OFFSETS) if kind == "rtm" else 0.0
    for k, hour in enumerate(["05", "06", "07", "08"]):
        assert got[pd.Timestamp(f"2024-11-03T{hour}:00Z")] == pytest.approx(base_price(k) + mean, abs=1e-12)
    assert len(got) == 25
    assert got.index[-1] == pd.Timestamp("2024-11-04T05:00Z")  # HE24: 23:00 CST


def test_spring_forward_has_no_hour_ending_3(tmp_path: Path) -> None:
    path, _ = native_window(tmp_path, [date(2025, 3, 9)], "rtm")
    s = read_ercot_spp(path, format="ercot-rtm-spp", settlement_point="LZ_WEST")
    got = pd.Series(s.values, index=pd.DatetimeIndex(s.ts_ns.view("datetime64[ns]")).tz_localize("UTC"))
    assert len(got) == 23
    # HE2 01:00 CST = 07Z; HE4 03:00 CDT = 08Z: the UTC hours run on without a gap.
    assert got[pd.Timestamp("2025-03-09T07:00Z")] == pytest.approx(base_price(1) + 1.125 - 7.0, abs=1e-12)
    assert got[pd.Timestamp("2025-03-09T08:00Z")] == pytest.approx(base_price(2) + 1.125 - 7.0, abs=1e-12)
    assert got.index[0] == pd.Timestamp("2025-03-09T06:00Z")
    assert got.index[-1] == pd.Timestamp("2025-03-10T04:00Z")


def test_fifteen_minute_average(tmp_path: Path) -> None:
    rows = [["07/01/2024", 15, i, "N", "HB_WEST", "HU", p] for i, p in enumerate([10.0, -30.0, 4964.84, 0.5], 1)]
    rows += [["07/01/2024", 16, i, "N", "HB_WEST", "HU", p] for i, p in enumerate([1.0, 2.0, 3.0, 5.0], 1)]
    s = read_ercot_spp(write_csv(tmp_path / "r.csv", RTM_HEADER, rows), format="ercot-rtm-spp")
    np.testing.assert_allclose(s.values, [(10.0 - 30.0 + 4964.84 + 0.5) / 4, 2.75], rtol=0, atol=1e-12)
    # HE15 is 14:00-15:00 CDT = 19:00Z.
    assert list(s.to_frame().index) == [pd.Timestamp("2024-07-01T19:00Z"), pd.Timestamp("2024-07-01T20:00Z")]


def test_row_order_does_not_matter(tmp_path: Path) -> None:
    path, expect = native_window(tmp_path, [date(2024, 11, 2), date(2024, 11, 3)], "rtm")
    lines = path.read_text().splitlines()
    body = lines[1:]
    rng = np.random.default_rng(7)
    shuffled = [body[i] for i in rng.permutation(len(body))]
    path.write_text("\n".join([lines[0]] + shuffled) + "\n")
    s = read_ercot_spp(path, format="ercot-rtm-spp", settlement_point="HB_WEST")
    np.testing.assert_allclose(s.values, expect.to_numpy(), rtol=0, atol=1e-9)


def test_ercot_header_spellings(tmp_path: Path) -> None:
    """ERCOT's DAM extract says Hour Ending 01:00 and DSTFlag; compact names also occur."""
    rows = [["11/03/2024", f"{h:02d}:00", f, "HB_WEST", 20.0 + k] for k, (h, f) in enumerate(ercot_hours(date(2024, 11, 3)))]
    path = write_csv(tmp_path / "d.csv", ["Delivery Date", "Hour Ending", "DSTFlag", "Settlement Point",
                                          "Settlement Point Price"], rows)
    s = read_ercot_spp(path, format="ercot-dam-spp")
    assert len(s.ts_ns) == 25 and s.values[2] == 22.0
    assert s.to_frame().index[2] == pd.Timestamp("2024-11-03T07:00Z")
    rows = [["2024-03-10", h, 1, f, "HB_WEST", 5.0] for h, f in ercot_hours(date(2024, 3, 10))]
    rows = [r[:2] + [i] + r[3:] for r in rows for i in range(1, 5)]
    path = write_csv(tmp_path / "r.csv", ["DeliveryDate", "DeliveryHour", "DeliveryInterval", "DSTFlag",
                                          "SettlementPointName", "SettlementPointPrice"], rows)
    s = read_ercot_spp(path, format="ercot-rtm-spp")
    assert len(s.ts_ns) == 23


# ------------------------------------------------------------------------------------------------
# ERCOT files: refused, naming the file, the line and the column
# ------------------------------------------------------------------------------------------------


def _one_day(tmp_path: Path, day: date = date(2024, 7, 1), point: str = "HB_WEST") -> list[list[object]]:
    return [[day.strftime("%m/%d/%Y"), h, f, point, 10.0] for h, f in ercot_hours(day)]


def test_hour_ending_3_on_the_spring_day_is_refused(tmp_path: Path) -> None:
    rows = _one_day(tmp_path, date(2024, 3, 10))
    rows.insert(2, ["03/10/2024", 3, "N", "HB_WEST", 10.0])  # line 4
    with pytest.raises(InputError) as exc:
        read_ercot_spp(write_csv(tmp_path / "d.csv", DAM_HEADER, rows), format="ercot-dam-spp", label="d.csv")
    (p,) = problems_of(exc)
    assert (p.file, p.row, p.column) == ("d.csv", 4, "Delivery Hour")
    assert "2024-03-10 hour ending 3 does not exist" in p.message


def test_repeated_flag_on_an_ordinary_hour_is_refused(tmp_path: Path) -> None:
    rows = _one_day(tmp_path)
    rows[9][2] = "Y"  # line 11, hour ending 10
    with pytest.raises(InputError) as exc:
        read_ercot_spp(write_csv(tmp_path / "d.csv", DAM_HEADER, rows), format="ercot-dam-spp", label="d.csv")
    (p,) = problems_of(exc)
    assert (p.row, p.column) == (11, "Repeated Hour Flag")
    assert "not the repeated hour" in p.message


def test_fall_back_without_flag_column_is_a_duplicate(tmp_path: Path) -> None:
    rows = [r[:2] + r[3:] for r in _one_day(tmp_path, date(2025, 11, 2))]
    header = [h for h in DAM_HEADER if h != "Repeated Hour Flag"]
    with pytest.raises(InputError) as exc:
        read_ercot_spp(write_csv(tmp_path / "d.csv", header, rows), format="ercot-dam-spp", label="d.csv")
    (p,) = problems_of(exc)
    assert p.row == 4 and "also on line 3" in p.message and "Repeated Hour Flag" in p.message


def test_incomplete_real_time_hour_is_refused(tmp_path: Path) -> None:
    rows = [["07/01/2024", h, i, "N", "HB_WEST", "HU", 1.0] for h in (1, 2) for i in range(1, 5)]
    del rows[6]  # hour ending 2, interval 3
    with pytest.raises(InputError) as exc:
        read_ercot_spp(write_csv(tmp_path / "r.csv", RTM_HEADER, rows), format="ercot-rtm-spp", label="r.csv")
    (p,) = problems_of(exc)
    assert (p.row, p.column) == (6, "Delivery Interval")
    assert "hour ending 2 has 3 of its 4 intervals (lines 6, 7, 8)" in p.message


def test_bad_fields_each_named(tmp_path: Path) -> None:
    rows = [["07/01/2024", h, i, "N", "HB_WEST", "HU", 1.0] for h in (1, 2) for i in range(1, 5)]
    rows[0][0] = "2024/07/01"  # line 2
    rows[1][1] = "25"  # line 3
    rows[2][2] = "5"  # line 4
    rows[3][3] = "maybe"  # line 5
    rows[4][6] = ""  # line 6
    rows[5][6] = "n/a"  # line 7
    rows.append(["07/01/2024", 3, 1, "N", "HB_NORTH", "HU", "junk"])  # another point: not read
    with pytest.raises(InputError) as exc:
        read_ercot_spp(write_csv(tmp_path / "r.csv", RTM_HEADER, rows), format="ercot-rtm-spp",
                       settlement_point="HB_WEST", label="r.csv")
    got = {(p.row, p.column) for p in problems_of(exc)}
    assert got == {(2, "Delivery Date"), (3, "Delivery Hour"), (4, "Delivery Interval"),
                   (5, "Repeated Hour Flag"), (6, "Settlement Point Price"), (7, "Settlement Point Price")}
    assert all(p.file == "r.csv" for p in problems_of(exc))


def test_settlement_point_choice(tmp_path: Path) -> None:
    path, _ = native_window(tmp_path, [date(2024, 7, 1)], "dam")
    with pytest.raises(InputError) as exc:
        read_ercot_spp(path, format="ercot-dam-spp")
    (p,) = problems_of(exc)
    assert "holds 3 settlement points (HB_NORTH, HB_WEST, LZ_WEST)" in p.message
    assert p.column == "Settlement Point Name"
    with pytest.raises(InputError) as exc:
        read_ercot_spp(path, format="ercot-dam-spp", settlement_point="hb_west")
    assert "'hb_west' is not in the file (did you mean 'HB_WEST'?)" in problems_of(exc)[0].message


def test_wrong_kind_of_file(tmp_path: Path) -> None:
    path, _ = native_window(tmp_path, [date(2024, 7, 1)], "dam")
    with pytest.raises(InputError) as exc:
        read_ercot_spp(path, format="ercot-rtm-spp", settlement_point="HB_WEST", label="dam.csv")
    (p,) = problems_of(exc)
    assert p.file == "dam.csv" and "no column 'Delivery Interval'" in p.message


# ------------------------------------------------------------------------------------------------
# local-time CSVs
# ------------------------------------------------------------------------------------------------


def local_csv(tmp_path: Path, stamps: list[str], name: str = "local.csv") -> str:
    rows = [[s, 10.0 + k] for k, s in enumerate(stamps)]
    write_csv(tmp_path / name, ["timestamp", "price_usd_per_mwh"], rows)
    return name


def local_day(day: str, skip: tuple[int, ...] = ()) -> list[str]:
    return [f"{day}T{h:02d}:00:00" for h in range(24) if h not in skip]


def test_local_time_spring_day(tmp_path: Path) -> None:
    name = local_csv(tmp_path, local_day("2024-03-10", skip=(2,)))
    df = read_inputs([{"file": name, "format": "local-time"}], base_dir=tmp_path,
                     hourly_columns=["price_usd_per_mwh"], step_columns=[], timezone=CPT)
    assert len(df) == 23
    assert df.index[0] == pd.Timestamp("2024-03-10T06:00Z") and df.index[-1] == pd.Timestamp("2024-03-11T04:00Z")
    assert df.loc["2024-03-10T08:00Z", "price_usd_per_mwh"] == 12.0  # 03:00 CDT, the third row
    assert Counter(df.index.tz_convert(CPT).date) == {date(2024, 3, 10): 23}


@pytest.mark.parametrize("stamp,kind,line", [
    ("2024-03-10T02:00:00", "does not exist in America/Chicago", 4),
    ("2025-03-09 02:30", "does not exist in America/Chicago", 4),
    ("2024-11-03T01:00:00", "occurs twice in America/Chicago", 3),
    ("2025-11-02T01:45:00", "occurs twice in America/Chicago", 3),
    ("2024-11-03T01:00:00-05:00", "carries a UTC offset", 3),
    ("3 Nov 2024", "cannot read timestamp", 3),
])
def test_local_time_refused(tmp_path: Path, stamp: str, kind: str, line: int) -> None:
    stamps = ["2024-06-01T00:00:00", "2024-06-01T01:00:00"]
    stamps.insert(line - 2, stamp)
    name = local_csv(tmp_path, stamps)
    with pytest.raises(InputError) as exc:
        read_inputs([InputSpec(file=name, format="local-time", timezone=CPT)], base_dir=tmp_path,
                    hourly_columns=["price_usd_per_mwh"], step_columns=[])
    p = problems_of(exc)[0]
    assert (p.file, p.row, p.column) == (name, line, "timestamp")
    assert kind in p.message


def test_local_time_needs_a_time_zone(tmp_path: Path) -> None:
    name = local_csv(tmp_path, local_day("2024-06-01"))
    with pytest.raises(InputError) as exc:
        read_inputs([{"file": name, "format": "local-time"}], base_dir=tmp_path,
                    hourly_columns=["price_usd_per_mwh"], step_columns=[])
    assert any(p.file == name and "no time zone is stated" in p.message for p in problems_of(exc))
    # The input's own zone wins over the scenario's.
    df = read_inputs([{"file": name, "format": "local-time", "timezone": "Europe/Berlin"}], base_dir=tmp_path,
                     hourly_columns=["price_usd_per_mwh"], step_columns=[], timezone=CPT)
    assert df.index[0] == pd.Timestamp("2024-05-31T22:00Z")


def test_standard_naive_timestamp_points_to_local_time(tmp_path: Path) -> None:
    name = local_csv(tmp_path, local_day("2024-06-01"))
    with pytest.raises(InputError) as exc:
        read_inputs([name], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"], step_columns=[])
    assert 'format = "local-time"' in problems_of(exc)[0].message


# ------------------------------------------------------------------------------------------------
# selection in read_inputs and scenario.toml
# ------------------------------------------------------------------------------------------------


def test_two_points_of_one_file_as_two_columns(tmp_path: Path) -> None:
    path, expect = native_window(tmp_path, [date(2024, 11, 3)], "rtm")
    df = read_inputs(
        [{"file": path.name, "format": "ercot-rtm-spp", "settlement_point": "HB_WEST"},
         {"file": path.name, "format": "ercot-rtm-spp", "settlement_point": "HB_NORTH", "column": "north_usd_per_mwh"}],
        base_dir=tmp_path, hourly_columns=["price_usd_per_mwh", "north_usd_per_mwh"], step_columns=[])
    assert len(df) == 25
    np.testing.assert_allclose(df["price_usd_per_mwh"], expect.to_numpy(), atol=1e-9, rtol=0)
    np.testing.assert_allclose(df["north_usd_per_mwh"] - df["price_usd_per_mwh"], 3.0, atol=1e-9, rtol=0)


def test_input_table_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_inputs([{"file": "x.csv", "format": "ercot-rtm-spp", "settlment_point": "HB_WEST"},
                     {"file": "y.csv", "format": "standard", "column": "p"},
                     {"file": "z.csv", "format": "pjm"}],
                    base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"], step_columns=[])
    got = {(p.key, p.file) for p in problems_of(exc) if p.key}
    assert ("inputs[0].settlment_point", "x.csv") in got
    assert ("inputs[1]", "y.csv") in got
    assert ("inputs[2].format", "z.csv") in got


def test_ercot_file_listed_as_standard_gets_a_hint(tmp_path: Path) -> None:
    path, _ = native_window(tmp_path, [date(2024, 7, 1)], "rtm", "rtm.csv")
    with pytest.raises(InputError) as exc:
        read_inputs(["rtm.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"], step_columns=[])
    assert 'format = "ercot-rtm-spp", settlement_point' in problems_of(exc)[0].message


def test_missing_hours_of_a_native_file_are_named(tmp_path: Path) -> None:
    path, _ = native_window(tmp_path, [date(2024, 11, 3)], "dam")
    with pytest.raises(InputError) as exc:
        read_inputs([{"file": path.name, "format": "ercot-dam-spp", "settlement_point": "HB_WEST"}],
                    base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"], step_columns=[],
                    start=pd.Timestamp("2024-11-03T04:00Z"), end=pd.Timestamp("2024-11-04T06:00Z"))
    (p,) = problems_of(exc)
    assert (p.file, p.column) == (path.name, "price_usd_per_mwh") and "2024-11-03T04:00Z" in p.message


SCENARIO = """
name = "native ERCOT prices"
timezone = "America/Chicago"
start = "2024-11-02T00:00:00-05:00"
end = "2024-11-05T00:00:00-06:00"
inputs = [{{file = "rtm.csv", format = "ercot-rtm-spp", settlement_point = "HB_WEST"}},
          {{file = "dam.csv", format = "ercot-dam-spp", settlement_point = "LZ_WEST", column = "dam_usd_per_mwh"}}{extra}]

[site]
import_mw = 10
energy_adder_usd_per_mwh = 1.5

[[flex]]
name = "batchjobs"
capacity_mw = 4
revenue_usd_per_mwh = 40.0

[[flex]]
name = "dam-hedged"
capacity_mw = 5
revenue_usd_per_mwh = "dam_usd_per_mwh"
"""


def test_scenario_with_native_ercot_inputs_solves(tmp_path: Path) -> None:
    days = [date(2024, 11, 2), date(2024, 11, 3), date(2024, 11, 4)]
    _, rtm = native_window(tmp_path, days, "rtm", "rtm.csv")
    _, dam = native_window(tmp_path, days, "dam", "dam.csv", phase=3)
    (tmp_path / "scenario.toml").write_text(SCENARIO.format(extra=""))
    sc = optimiser.load_scenario(tmp_path)
    assert sc.hours == 24 + 25 + 24
    np.testing.assert_allclose(sc.data["price_usd_per_mwh"], rtm.to_numpy(), atol=1e-9, rtol=0)
    np.testing.assert_allclose(sc.data["dam_usd_per_mwh"], dam.to_numpy() - 7.0, atol=1e-9, rtol=0)
    assert Counter(sc.local_timestamps().date) == {days[0]: 24, days[1]: 25, days[2]: 24}
    res = optimiser.solve(optimiser.build(sc))
    d = res.dispatch
    cost = sc.data["price_usd_per_mwh"].to_numpy() + 1.5
    # Each flex load runs exactly when it earns more than the energy costs (import 10 >= 4 + 5).
    np.testing.assert_allclose(d["flex_batchjobs_mw"], np.where(40.0 > cost, 4.0, 0.0), atol=1e-6)
    dam_rev = sc.data["dam_usd_per_mwh"].to_numpy()
    np.testing.assert_allclose(d["flex_dam-hedged_mw"], np.where(dam_rev > cost, 5.0, 0.0), atol=1e-6)
    expect = (np.maximum(40.0 - cost, 0) * 4 + np.maximum(dam_rev - cost, 0) * 5).sum()
    assert res.summary["objective_usd"] == pytest.approx(expect, rel=1e-9)
    # Both branches of each check are exercised.
    assert 0 < d["flex_batchjobs_mw"].sum() < 4 * sc.hours
    assert 0 < d["flex_dam-hedged_mw"].sum() < 5 * sc.hours


def test_scenario_input_table_errors_name_the_key(tmp_path: Path) -> None:
    native_window(tmp_path, [date(2024, 11, 3)], "rtm", "rtm.csv")
    native_window(tmp_path, [date(2024, 11, 3)], "dam", "dam.csv")
    (tmp_path / "scenario.toml").write_text(SCENARIO.format(extra=', {file = "x.csv", fromat = "local-time"}'))
    with pytest.raises(InputError) as exc:
        optimiser.load_scenario(tmp_path)
    (p,) = problems_of(exc)
    assert p.key == "inputs[2].fromat" and "unknown key" in p.message


def test_scenario_local_time_uses_the_scenario_zone(tmp_path: Path) -> None:
    native_window(tmp_path, [date(2024, 11, 2), date(2024, 11, 3), date(2024, 11, 4)], "dam", "dam.csv")
    stamps = [t.strftime("%Y-%m-%dT%H:%M:%S") for t in
              pd.date_range("2024-11-02T05:00Z", "2024-11-05T06:00Z", freq="h", inclusive="left").tz_convert(CPT)]
    rows = [[s, 20.0] for s in stamps if not s.startswith("2024-11-03T01:")]
    write_csv(tmp_path / "local.csv", ["timestamp", "price_usd_per_mwh"], rows)
    text = SCENARIO.format(extra="").replace('{file = "rtm.csv", format = "ercot-rtm-spp", settlement_point = '
                                             '"HB_WEST"}', '{file = "local.csv", format = "local-time"}')
    (tmp_path / "scenario.toml").write_text(text)
    with pytest.raises(InputError) as exc:  # local time cannot hold the two 01:00 hours of 3 November
        optimiser.load_scenario(tmp_path)
    (p,) = problems_of(exc)
    assert p.file == "local.csv" and "2 hours" in p.message
    assert "2024-11-03T06:00Z .. 2024-11-03T07:00Z (2 h)" in p.message


# ------------------------------------------------------------------------------------------------
# dispatch import
# ------------------------------------------------------------------------------------------------


def test_cli_import_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, expect = native_window(tmp_path, [date(2025, 3, 8), date(2025, 3, 9)], "rtm")
    out = tmp_path / "std.csv"
    code = main(["import", "ercot-rtm-spp", str(path), "--out", str(out), "--settlement-point", "HB_WEST"])
    assert code == 0
    assert "47 rows, 2025-03-08T06:00Z .. 2025-03-10T04:00Z" in capsys.readouterr().out
    df = read_inputs([out.name], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"], step_columns=[])
    assert list(df.index) == list(expect.index)
    np.testing.assert_allclose(df["price_usd_per_mwh"], expect.to_numpy(), atol=1e-9, rtol=0)
    # Written exactly: the standard CSV reads back to the very floats the reader produced.
    s = read_ercot_spp(path, format="ercot-rtm-spp", settlement_point="HB_WEST")
    assert (df["price_usd_per_mwh"].to_numpy() == s.values).all()
    assert out.read_text().splitlines()[:2] == ["timestamp,price_usd_per_mwh",
                                               f"2025-03-08T06:00:00Z,{float(s.values[0])!r}"]


def test_cli_import_local_time(tmp_path: Path) -> None:
    local_csv(tmp_path, local_day("2024-11-04"))
    out = tmp_path / "std.csv"
    assert main(["import", "local-time", str(tmp_path / "local.csv"), "--out", str(out), "--timezone", CPT]) == 0
    lines = out.read_text().splitlines()
    assert lines[0] == "timestamp,price_usd_per_mwh" and lines[1] == "2024-11-04T06:00:00Z,10.0"
    assert len(lines) == 25


def test_cli_import_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = native_window(tmp_path, [date(2024, 7, 1)], "dam")
    out = tmp_path / "std.csv"
    assert main(["import", "ercot-dam-spp", str(path), "--out", str(out)]) == 2
    assert "holds 3 settlement points" in capsys.readouterr().err
    assert main(["import", "ercot-dam-spp", str(path), "--out", str(out), "--settlement-point", "HB_WEST",
                 "--timezone", CPT]) == 2
    assert "'timezone' applies only to the format local-time" in capsys.readouterr().err
    local_csv(tmp_path, ["2024-11-03T00:00:00", "2024-11-03T01:00:00"])
    assert main(["import", "local-time", str(tmp_path / "local.csv"), "--out", str(out), "--timezone", CPT]) == 2
    err = capsys.readouterr().err
    assert "local.csv, line 3, column 'timestamp'" in err and "occurs twice" in err
    assert not out.exists()


# ------------------------------------------------------------------------------------------------
# against the shared real data (already UTC): ERCOT's layout rebuilt from it, read back
# ------------------------------------------------------------------------------------------------


def _needs(*names: str) -> None:
    for n in names:
        if not (DATA_DIR / n).is_file():
            pytest.skip(f"real data not found: {DATA_DIR / n} (set DISPATCH_DATA)")


def _to_ercot_layout(frames: dict[str, pd.DataFrame], kind: str) -> pd.DataFrame:
    """Rows in ERCOT's layout for UTC series (one per settlement point), sorted as ERCOT does."""
    parts = []
    for point, f in frames.items():
        utc = pd.DatetimeIndex(pd.to_datetime(f["timestamp"], utc=True))
        local = utc.tz_convert(CPT)
        wall = local.tz_localize(None)
        # The repeated hour: its wall-clock time is that of the UTC hour before it.
        earlier = (utc - pd.Timedelta(hours=1)).tz_convert(CPT).tz_localize(None)
        part = pd.DataFrame({
            "Delivery Date": wall.strftime("%m/%d/%Y"),
            "Delivery Hour": wall.hour + 1,
            "Delivery Interval": wall.minute // 15 + 1,
            "Repeated Hour Flag": np.where(wall.floor("h") == earlier.floor("h"), "Y", "N"),
            "Settlement Point Name": point,
            "Settlement Point Type": "HU",
            "Settlement Point Price": f["price_usd_per_mwh"].to_numpy(),
            "_utc": utc,
        })
        parts.append(part)
    rows = pd.concat(parts).sort_values(["_utc", "Settlement Point Name"], kind="stable").drop(columns="_utc")
    if kind == "dam":
        rows = rows.drop(columns=["Delivery Interval", "Settlement Point Type"])
    return rows


@pytest.mark.parametrize("kind", ["rtm", "dam"])
def test_shared_data_round_trip(tmp_path: Path, kind: str) -> None:
    src = "ercot_rtm_spp_15min_{}.csv" if kind == "rtm" else "ercot_dam_spp_hourly_{}.csv"
    hourly = "ercot_rtm_spp_hourly_HB_WEST.csv" if kind == "rtm" else "ercot_dam_spp_hourly_HB_WEST.csv"
    _needs(src.format("HB_WEST"), hourly)
    west = pd.read_csv(DATA_DIR / src.format("HB_WEST"))
    frames = {"HB_WEST": west, "HB_SYNTH": west.assign(price_usd_per_mwh=west["price_usd_per_mwh"] * 2 + 1)}
    if (DATA_DIR / src.format("HB_HUBAVG")).is_file():
        frames["HB_HUBAVG"] = pd.read_csv(DATA_DIR / src.format("HB_HUBAVG"))
    native = _to_ercot_layout(frames, kind)
    flags = native.loc[native["Settlement Point Name"] == "HB_WEST", "Repeated Hour Flag"]
    assert (flags == "Y").sum() == 2 * (4 if kind == "rtm" else 1)  # the two fall-back hours
    path = tmp_path / f"{kind}.csv"
    native.to_csv(path, index=False)

    s = read_ercot_spp(path, format=f"ercot-{kind}-spp", settlement_point="HB_WEST")
    ref = pd.read_csv(DATA_DIR / hourly)
    ref_ns = pd.DatetimeIndex(pd.to_datetime(ref["timestamp"], utc=True)).as_unit("ns").asi8
    assert len(s.ts_ns) == len(ref) == 16800
    assert (s.ts_ns == ref_ns).all()
    np.testing.assert_allclose(s.values, ref["price_usd_per_mwh"].to_numpy(), rtol=0, atol=1e-9)
    days = local_day_hours(s.ts_ns)
    assert [days[d] for d in DST_DAYS] == [23, 25, 23, 25]
    assert sum(1 for d, n in days.items() if n != 24) == 6  # the DST days + the file's two partial edge days

    # The same hours through a scenario-style input, and through dispatch import.
    out = tmp_path / "std.csv"
    assert main(["import", f"ercot-{kind}-spp", str(path), "--out", str(out), "--settlement-point", "HB_WEST"]) == 0
    std = pd.read_csv(out)
    assert (std["timestamp"] == ref["timestamp"]).all()
    np.testing.assert_allclose(std["price_usd_per_mwh"], ref["price_usd_per_mwh"], rtol=0, atol=1e-9)
    df = read_inputs([{"file": path.name, "format": f"ercot-{kind}-spp", "settlement_point": "HB_SYNTH"}],
                     base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"], step_columns=[],
                     start=pd.Timestamp("2024-11-02T05:00Z"), end=pd.Timestamp("2024-11-05T06:00Z"))
    assert len(df) == 24 + 25 + 24
    window = ref.set_index(pd.to_datetime(ref["timestamp"], utc=True))["price_usd_per_mwh"].loc[df.index]
    np.testing.assert_allclose(df["price_usd_per_mwh"], window * 2 + 1, rtol=0, atol=1e-9)
