"""Tests of :mod:`optimiser.inputs`: reading the input CSVs into one hourly frame."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimiser.errors import InputError, Problem
from optimiser.inputs import read_inputs

UTC = "UTC"


def write(tmp_path: Path, name: str, text: str) -> str:
    """Write a CSV (leading/trailing blank lines and indentation stripped); return its name."""
    lines = [line.strip() for line in text.strip().splitlines()]
    (tmp_path / name).write_text("\n".join(lines) + "\n")
    return name


def hourly_csv(tmp_path: Path, name: str, start: str, values, column: str = "price_usd_per_mwh",
               freq: str = "h") -> str:
    """Write a regular series starting at ``start`` (UTC) with one row per value."""
    idx = pd.date_range(pd.Timestamp(start, tz=UTC), periods=len(values), freq=freq)
    rows = [f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{v}" for t, v in zip(idx, values)]
    (tmp_path / name).write_text("timestamp," + column + "\n" + "\n".join(rows) + "\n")
    return name


def problems_of(exc: pytest.ExceptionInfo[InputError]) -> list[Problem]:
    return exc.value.problems


def ts(text: str) -> pd.Timestamp:
    """A tz-aware timestamp in UTC (``text`` carries its offset)."""
    return pd.Timestamp(text).tz_convert(UTC)


# ------------------------------------------------------------------------------------------------
# timestamps
# ------------------------------------------------------------------------------------------------


def test_offsets_converted_to_utc(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00-06:00,1
        2024-01-01T01:00:00-06:00,2
        2024-01-01T08:00:00Z,3
        2024-01-01T10:00:00+01:00,4
    """)
    df = read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=[])
    assert str(df.index.tz) == UTC
    assert df.index.name == "timestamp"
    assert list(df.index) == [ts("2024-01-01T06:00Z"), ts("2024-01-01T07:00Z"),
                              ts("2024-01-01T08:00Z"), ts("2024-01-01T09:00Z")]
    assert df["price_usd_per_mwh"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert df["price_usd_per_mwh"].dtype == np.float64


def test_naive_timestamp_is_error_naming_file_line_column(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00Z,1
        2024-01-01T01:00:00,2
        2024-01-01T02:00:00Z,3
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert (p.file, p.row, p.column) == ("p.csv", 3, "timestamp")
    assert "no UTC offset" in p.message and "2024-01-01T01:00:00" in p.message
    assert "p.csv, line 3, column 'timestamp'" in str(exc.value)


def test_date_only_timestamp_is_naive(tmp_path: Path) -> None:
    write(tmp_path, "d.csv", """
        timestamp,difficulty
        2024-01-01,1e14
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["d.csv"], base_dir=tmp_path, hourly_columns=[], step_columns=["difficulty"],
                    start=ts("2024-01-01T00Z"), end=ts("2024-01-02T00Z"))
    (p,) = problems_of(exc)
    assert (p.file, p.row, p.column) == ("d.csv", 2, "timestamp")
    assert "no UTC offset" in p.message


def test_unparseable_timestamp(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00Z,1
        yesterday,2
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert (p.file, p.row, p.column) == ("p.csv", 3, "timestamp")
    assert "'yesterday'" in p.message


def test_many_bad_timestamps_are_summarised(tmp_path: Path) -> None:
    rows = "\n".join(f"2024-01-01T{h:02d}:00:00,{h}" for h in range(24))
    (tmp_path / "p.csv").write_text("timestamp,price_usd_per_mwh\n" + rows + "\n")
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    probs = problems_of(exc)
    assert [p.row for p in probs[:5]] == [2, 3, 4, 5, 6]
    assert len(probs) == 6
    assert probs[5].row is None and "19 more rows" in probs[5].message
    assert "lines 7 .. 25" in probs[5].message


def test_duplicate_timestamps_name_the_lines(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00Z,1
        2024-01-01T01:00:00Z,2
        2024-01-01T01:00:00Z,3
        2024-01-01T02:00:00Z,4
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert (p.file, p.row, p.column) == ("p.csv", 4, "timestamp")
    assert "duplicate" in p.message and "lines 3, 4" in p.message


def test_duplicate_through_different_offsets(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T06:00:00Z,1
        2024-01-01T00:00:00-06:00,2
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    assert any("duplicate timestamp 2024-01-01T06:00Z" in p.message for p in problems_of(exc))


def test_out_of_order_timestamp_names_the_line(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00Z,1
        2024-01-01T02:00:00Z,3
        2024-01-01T01:00:00Z,2
        2024-01-01T03:00:00Z,4
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert (p.file, p.row, p.column) == ("p.csv", 4, "timestamp")
    assert "ascending" in p.message


# ------------------------------------------------------------------------------------------------
# hourly columns
# ------------------------------------------------------------------------------------------------


def test_quarter_hours_are_averaged(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "q.csv", "2024-01-01T00:00", [10, 20, 30, 40, 1, 2, 3, 6], freq="15min")
    df = read_inputs(["q.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=[])
    assert list(df.index) == [ts("2024-01-01T00:00Z"), ts("2024-01-01T01:00Z")]
    assert df["price_usd_per_mwh"].tolist() == [25.0, 3.0]


def test_quarter_hours_with_offset_averaged_to_utc_hour(tmp_path: Path) -> None:
    write(tmp_path, "q.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00-06:00,10
        2024-01-01T00:15:00-06:00,20
        2024-01-01T00:30:00-06:00,30
        2024-01-01T00:45:00-06:00,40
    """)
    df = read_inputs(["q.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=[])
    assert list(df.index) == [ts("2024-01-01T06:00Z")]
    assert df["price_usd_per_mwh"].tolist() == [25.0]


def test_missing_hour_is_error_naming_file_column_hour(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00Z,1
        2024-01-01T01:00:00Z,2
        2024-01-01T03:00:00Z,4
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert (p.file, p.column) == ("p.csv", "price_usd_per_mwh")
    assert "1 hour of the horizon" in p.message
    assert "missing: 2024-01-01T02:00Z" in p.message


def test_long_gap_is_summarised_first_last_count(tmp_path: Path) -> None:
    values = list(range(48))
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", values)
    text = (tmp_path / "p.csv").read_text().splitlines()
    # drop hours 05..29 (25 h) and hour 40
    keep = [text[0]] + [line for i, line in enumerate(text[1:]) if not (5 <= i <= 29 or i == 40)]
    (tmp_path / "p.csv").write_text("\n".join(keep) + "\n")
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert "26 hours" in p.message
    assert "2024-01-01T05:00Z .. 2024-01-02T05:00Z (25 h)" in p.message
    assert "2024-01-02T16:00Z" in p.message


def test_missing_hour_before_data_with_explicit_start(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T02:00", [1, 2, 3])
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[], start=ts("2024-01-01T00:00Z"), end=ts("2024-01-01T05:00Z"))
    (p,) = problems_of(exc)
    assert "2024-01-01T00:00Z .. 2024-01-01T01:00Z (2 h)" in p.message


def test_nan_empty_and_text_values_name_line_column_value(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,other,price_usd_per_mwh
        2024-01-01T00:00:00Z,x,1
        2024-01-01T01:00:00Z,x,NaN
        2024-01-01T02:00:00Z,x,
        2024-01-01T03:00:00Z,x,12abc
        2024-01-01T04:00:00Z,x,5
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    probs = problems_of(exc)
    assert [(p.file, p.row, p.column) for p in probs] == [
        ("p.csv", 3, "price_usd_per_mwh"),
        ("p.csv", 4, "price_usd_per_mwh"),
        ("p.csv", 5, "price_usd_per_mwh"),
    ]
    assert "'NaN'" in probs[0].message
    assert "empty" in probs[1].message
    assert "'12abc'" in probs[2].message


def test_other_columns_are_ignored_even_if_text(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,note,price_usd_per_mwh,extra
        2024-01-01T00:00:00Z,hello,1.5,
        2024-01-01T01:00:00Z,,2.5,abc
    """)
    df = read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=[])
    assert list(df.columns) == ["price_usd_per_mwh"]
    assert df["price_usd_per_mwh"].tolist() == [1.5, 2.5]


def test_blank_line_keeps_line_numbers(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "timestamp,price_usd_per_mwh\n2024-01-01T00:00:00Z,1\n\n2024-01-01T01:00:00Z,x\n"
    )
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert p.row == 4


# ------------------------------------------------------------------------------------------------
# step columns
# ------------------------------------------------------------------------------------------------


def test_daily_step_series_carried_forward(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", list(range(48)))
    write(tmp_path, "d.csv", """
        timestamp,difficulty,btc_usd
        2024-01-01T00:00:00Z,100,50000
        2024-01-02T00:00:00Z,200,60000
    """)
    df = read_inputs(["p.csv", "d.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=["difficulty", "btc_usd"])
    assert len(df) == 48
    assert list(df.columns) == ["price_usd_per_mwh", "difficulty", "btc_usd"]
    assert df["difficulty"].iloc[:24].tolist() == [100.0] * 24
    assert df["difficulty"].iloc[24:].tolist() == [200.0] * 24
    assert df.loc[ts("2024-01-01T23:00Z"), "btc_usd"] == 50000.0
    assert df.loc[ts("2024-01-02T00:00Z"), "btc_usd"] == 60000.0


def test_step_changes_at_the_hour_whose_start_it_reaches(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", [0, 0, 0, 0])
    write(tmp_path, "d.csv", """
        timestamp,difficulty
        2023-12-31T00:00:00Z,1
        2024-01-01T01:30:00Z,2
        2024-01-01T03:00:00Z,3
    """)
    df = read_inputs(["p.csv", "d.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=["difficulty"])
    # 01:30 is not in force at 01:00 but is at 02:00; 03:00 is in force at 03:00.
    assert df["difficulty"].tolist() == [1.0, 1.0, 2.0, 3.0]


def test_step_series_starting_after_start_is_error(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", list(range(48)))
    write(tmp_path, "d.csv", """
        timestamp,difficulty
        2024-01-01T05:00:00Z,100
        2024-01-02T05:00:00Z,200
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv", "d.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=["difficulty"], start=ts("2024-01-01T00:00Z"))
    (p,) = problems_of(exc)
    assert (p.file, p.row, p.column) == ("d.csv", 2, "difficulty")
    assert "after the horizon start 2024-01-01T00:00Z" in p.message


def test_step_text_value_is_error(tmp_path: Path) -> None:
    write(tmp_path, "d.csv", """
        timestamp,difficulty
        2024-01-01T00:00:00Z,100
        2024-01-02T00:00:00Z,n/a
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["d.csv"], base_dir=tmp_path, hourly_columns=[], step_columns=["difficulty"])
    (p,) = problems_of(exc)
    assert (p.file, p.row, p.column) == ("d.csv", 3, "difficulty")
    assert "'n/a'" in p.message


def test_optional_step_columns(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", [1, 2, 3])
    write(tmp_path, "d.csv", """
        timestamp,difficulty,fees_btc_per_block
        2024-01-01T00:00:00Z,100,0.1
    """)
    df = read_inputs(["p.csv", "d.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=["difficulty"],
                     optional_step_columns=["fees_btc_per_block", "subsidy_btc"])
    assert list(df.columns) == ["price_usd_per_mwh", "difficulty", "fees_btc_per_block"]
    assert df["fees_btc_per_block"].tolist() == [0.1] * 3


# ------------------------------------------------------------------------------------------------
# files and columns
# ------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        read_inputs(["nope.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    probs = problems_of(exc)
    assert probs[0].file == "nope.csv" and "not found" in probs[0].message
    assert probs[1].column == "price_usd_per_mwh" and "nope.csv" in probs[1].message


def test_empty_file_and_no_timestamp_column(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    write(tmp_path, "nots.csv", """
        time,price_usd_per_mwh
        2024-01-01T00:00:00Z,1
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["empty.csv", "nots.csv"], base_dir=tmp_path,
                    hourly_columns=["price_usd_per_mwh"], step_columns=[])
    probs = problems_of(exc)
    assert [p.file for p in probs] == ["empty.csv", "nots.csv"]
    assert "empty" in probs[0].message
    assert "no 'timestamp' column" in probs[1].message


def test_header_only_file(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("timestamp,price_usd_per_mwh\n")
    with pytest.raises(InputError) as exc:
        read_inputs(["h.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    assert problems_of(exc)[0].file == "h.csv"
    assert "no data rows" in problems_of(exc)[0].message


def test_missing_column_names_column_and_files(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", [1, 2])
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path,
                    hourly_columns=["price_usd_per_mwh", "regup_usd_per_mw_per_h"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert p.column == "regup_usd_per_mw_per_h"
    assert "not found" in p.message and "p.csv" in p.message


def test_column_in_two_files(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "a.csv", "2024-01-01T00:00", [1, 2])
    hourly_csv(tmp_path, "b.csv", "2024-01-01T00:00", [3, 4])
    with pytest.raises(InputError) as exc:
        read_inputs(["a.csv", "b.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert p.column == "price_usd_per_mwh"
    assert "a.csv" in p.message and "b.csv" in p.message


def test_several_problems_in_one_error(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00Z,1
        2024-01-01 01:00,2
    """)
    write(tmp_path, "d.csv", """
        timestamp,difficulty
        2024-01-01T00:00:00Z,1e14
        2024-01-02T00:00:00Z,oops
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv", "d.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=["difficulty", "btc_usd"])
    found = {(p.file, p.row, p.column) for p in problems_of(exc)}
    assert found == {
        ("p.csv", 3, "timestamp"),
        ("d.csv", 3, "difficulty"),
        (None, None, "btc_usd"),
    }
    assert str(exc.value).startswith("3 problems in the input:")


def test_relative_and_absolute_paths(tmp_path: Path) -> None:
    sub = tmp_path / "data"
    sub.mkdir()
    hourly_csv(sub, "p.csv", "2024-01-01T00:00", [1, 2])
    write(tmp_path, "d.csv", "timestamp,difficulty\n2024-01-01T00:00:00Z,7")
    df = read_inputs(["data/p.csv", tmp_path / "d.csv"], base_dir=tmp_path,
                     hourly_columns=["price_usd_per_mwh"], step_columns=["difficulty"])
    assert df["difficulty"].tolist() == [7.0, 7.0]
    with pytest.raises(InputError) as exc:
        read_inputs(["data/missing.csv"], base_dir=tmp_path, hourly_columns=["x"], step_columns=[])
    assert problems_of(exc)[0].file == "data/missing.csv"


# ------------------------------------------------------------------------------------------------
# horizon
# ------------------------------------------------------------------------------------------------


def test_default_horizon_is_the_intersection(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", list(range(72)))          # to 01-04T00
    # r.csv: 05:00 on 01-01 to 16:00 on 01-03
    hourly_csv(tmp_path, "r.csv", "2024-01-01T05:00", list(range(60)), column="regup")
    write(tmp_path, "d.csv", """
        timestamp,difficulty
        2023-12-31T00:00:00Z,1
        2024-01-01T00:00:00Z,2
        2024-01-02T00:00:00Z,3
    """)  # covers to 2024-01-03T00 (last + 1 day)
    write(tmp_path, "b.csv", """
        timestamp,btc_usd
        2024-01-01T02:30:00Z,10
        2024-01-05T00:00:00Z,20
    """)  # starts 02:30 -> first full hour 03:00; covers to 2024-01-08T21:30 -> 21:00
    df = read_inputs(["p.csv", "r.csv", "d.csv", "b.csv"], base_dir=tmp_path,
                     hourly_columns=["price_usd_per_mwh", "regup"],
                     step_columns=["difficulty", "btc_usd"])
    assert df.index[0] == ts("2024-01-01T05:00Z")
    assert df.index[-1] == ts("2024-01-02T23:00Z")
    assert len(df) == 43
    assert (df.index[1:] - df.index[:-1] == pd.Timedelta(hours=1)).all()


def test_step_column_start_is_ceiled_to_the_hour(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", list(range(6)))
    write(tmp_path, "b.csv", """
        timestamp,btc_usd
        2024-01-01T02:30:00Z,10
        2024-01-01T03:30:00Z,20
        2024-01-01T04:30:00Z,30
    """)
    df = read_inputs(["p.csv", "b.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=["btc_usd"])
    # starts 02:30 -> first hour 03:00; covers to 04:30 + 1 h = 05:30 -> end 05:00 (exclusive)
    assert list(df.index) == [ts("2024-01-01T03:00Z"), ts("2024-01-01T04:00Z")]
    assert df["btc_usd"].tolist() == [10.0, 20.0]


def test_explicit_start_end_slicing(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", list(range(48)))
    write(tmp_path, "d.csv", "timestamp,difficulty\n2023-01-01T00:00:00Z,5")
    df = read_inputs(["p.csv", "d.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=["difficulty"], start=pd.Timestamp("2024-01-01T10:00Z"),
                     end=pd.Timestamp("2024-01-01T09:00-06:00"))
    assert df.index[0] == ts("2024-01-01T10:00Z")
    assert df.index[-1] == ts("2024-01-01T14:00Z")
    assert df["price_usd_per_mwh"].tolist() == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert df["difficulty"].tolist() == [5.0] * 5


def test_bad_horizon_bounds(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", list(range(48)))
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[], start=pd.Timestamp("2024-01-01T10:00"),
                    end=pd.Timestamp("2024-01-01T12:30Z"))
    probs = problems_of(exc)
    assert [p.key for p in probs] == ["start", "end"]
    assert "no time zone" in probs[0].message
    assert "whole hour" in probs[1].message


def test_empty_horizon(tmp_path: Path) -> None:
    hourly_csv(tmp_path, "p.csv", "2024-01-01T00:00", list(range(5)))
    hourly_csv(tmp_path, "r.csv", "2024-01-02T00:00", list(range(5)), column="regup")
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv", "r.csv"], base_dir=tmp_path,
                    hourly_columns=["price_usd_per_mwh", "regup"], step_columns=[])
    (p,) = problems_of(exc)
    assert "holds no hours" in p.message and "no hours in common" in p.message
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[], start=ts("2024-01-01T03:00Z"), end=ts("2024-01-01T03:00Z"))
    assert "holds no hours" in problems_of(exc)[0].message


def test_same_column_in_two_roles_is_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        read_inputs([], base_dir=tmp_path, hourly_columns=["x"], step_columns=["x"])


# ------------------------------------------------------------------------------------------------
# real data (skipped when absent)
# ------------------------------------------------------------------------------------------------

DATA_DIR = Path(os.environ.get("DISPATCH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.mark.realdata
@pytest.mark.skipif(not (DATA_DIR / "ercot_rtm_spp_15min_HB_WEST.csv").exists(),
                    reason="shared data not available")
def test_real_15min_averages_equal_hourly_file() -> None:
    kw = dict(base_dir=DATA_DIR, hourly_columns=["price_usd_per_mwh"], step_columns=[],
              start=ts("2024-01-01T00:00Z"), end=ts("2024-01-08T00:00Z"))
    quarter = read_inputs(["ercot_rtm_spp_15min_HB_WEST.csv"], **kw)
    hourly = read_inputs(["ercot_rtm_spp_hourly_HB_WEST.csv"], **kw)
    assert len(quarter) == 7 * 24
    np.testing.assert_allclose(quarter["price_usd_per_mwh"].to_numpy(),
                               hourly["price_usd_per_mwh"].to_numpy(), rtol=0, atol=1e-6)


def test_blanks_around_fields_and_empty_rows_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text(
        "timestamp , price_usd_per_mwh\n"
        " 2024-01-01T00:00:00Z , 1\n"
        ",\n"
        "2024-01-01T01:00:00-06:00 ,2\n"
        "\n"
    )
    df = read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                     step_columns=[], start=ts("2024-01-01T00:00Z"), end=ts("2024-01-01T01:00Z"))
    assert df["price_usd_per_mwh"].tolist() == [1.0]
    df = read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=[],
                     step_columns=["price_usd_per_mwh"], start=ts("2024-01-01T07:00Z"),
                     end=ts("2024-01-01T08:00Z"))
    assert df["price_usd_per_mwh"].tolist() == [2.0]


def test_duplicates_reported_in_line_order_with_all_lines(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh,note,note
        2024-01-01T01:00:00Z,1,a,b
        2024-01-01T00:00:00Z,2,a,b
        2024-01-01T01:00:00Z,3,a,b
        2024-01-01T00:00:00Z,4,a,b
        2024-01-01T01:00:00Z,5,a,b
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    dups = [p for p in problems_of(exc) if "duplicate" in p.message]
    assert [(p.row, p.message) for p in dups] == [
        (4, "duplicate timestamp 2024-01-01T01:00Z: on lines 2, 4, 6"),
        (5, "duplicate timestamp 2024-01-01T00:00Z: on lines 3, 5"),
    ]


def test_repeated_requested_column_in_header(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh,price_usd_per_mwh
        2024-01-01T00:00:00Z,1,2
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    p = problems_of(exc)[0]
    assert (p.file, p.column) == ("p.csv", "price_usd_per_mwh") and "more than once" in p.message


def test_timestamp_out_of_range_is_unreadable(tmp_path: Path) -> None:
    write(tmp_path, "p.csv", """
        timestamp,price_usd_per_mwh
        2024-01-01T00:00:00Z,1
        9999-01-01T00:00:00Z,2
    """)
    with pytest.raises(InputError) as exc:
        read_inputs(["p.csv"], base_dir=tmp_path, hourly_columns=["price_usd_per_mwh"],
                    step_columns=[])
    (p,) = problems_of(exc)
    assert (p.row, p.column) == (3, "timestamp") and "cannot read" in p.message
