import math

import numpy as np
import pandas as pd
import pytest

from oocyteseg.errors import OocytesegError
from oocyteseg.morphometry.compare import (absolute_error, case_table, compare, match_frames, relative_error,
                                           table_markdown, with_average_row)
from oocyteseg.morphometry.compare_report import OUTPUTS, write_comparison


def test_relative_error_by_hand():
    err, excluded = relative_error([0.9, 0.5, np.nan, 3.0, -1.1], [1.0, 0.5, 0.4, 0.0, -1.0])
    np.testing.assert_allclose(err, [10.0, 0.0, np.nan, np.nan, 10.0])
    assert excluded == 2
    np.testing.assert_allclose(absolute_error([0.9, np.nan, 3.0], [1.0, 1.0, 0.0]), [0.1, np.nan, 3.0])


def _table(values: dict[str, list], cases, frames) -> pd.DataFrame:
    df = pd.DataFrame({"case": cases, "video": "", "frame_index": frames, "time_s": np.nan})
    for f in ("f1", "f2", "f3", "f4"):
        df[f] = values.get(f, [1.0] * len(cases))
    return df


def test_compare_per_case_by_hand():
    cases, frames = ["1", "1", "2", "2"], [0, 24, 0, 24]
    auto = _table({"f3": [11.0, 9.0, 23.0, 18.0], "f4": [1.0, 2.0, 0.5, 0.0]}, cases, frames)
    manual = _table({"f3": [10.0, 10.0, 20.0, 20.0], "f4": [0.0, 1.0, 0.0, 0.0]}, cases, frames)
    per_frame, per_case = compare(auto.iloc[::-1], manual)  # row order does not matter
    assert len(per_frame) == 4
    assert list(per_case.index) == ["Case1", "Case2", "AVG"]
    assert list(per_case.columns.get_level_values(1)[:2]) == ["AVG", "SD"]
    f3 = per_case["f3 [%]"]
    assert f3.loc["Case1", "AVG"] == pytest.approx(10.0) and f3.loc["Case1", "SD"] == pytest.approx(0.0)
    assert f3.loc["Case2", "AVG"] == pytest.approx(12.5)
    assert f3.loc["Case2", "SD"] == pytest.approx(math.sqrt(2 * 2.5 ** 2))
    assert f3.loc["AVG", "AVG"] == pytest.approx(11.25)
    assert f3.loc["AVG", "SD"] == pytest.approx(math.sqrt(12.5) / 2)
    # f4: manual 0 in three frames -> excluded from the relative error, still in the absolute error
    assert per_frame.attrs["excluded"]["f4"] == 3
    f4 = per_case["f4 [%]"]
    assert f4.loc["Case1", "AVG"] == pytest.approx(100.0) and math.isnan(f4.loc["Case1", "SD"])
    assert math.isnan(f4.loc["Case2", "AVG"])
    absolute = case_table(per_frame, "abs")
    assert absolute["f4 [px]"].loc["Case1", "AVG"] == pytest.approx(1.0)
    assert absolute["f4 [px]"].loc["Case2", "AVG"] == pytest.approx(0.25)
    assert absolute["f4 [px]"].loc["AVG", "AVG"] == pytest.approx(0.625)


def test_average_row_reproduces_shimotsu_table3():
    # per-case AVG/SD of f1 and f4 from Shimotsu et al. Table 3; their AVG row is the mean over cases
    f1 = [(4.56, 4.38), (4.29, 5.48), (3.00, 4.44), (7.18, 9.00), (2.62, 4.03), (3.63, 7.04), (10.36, 5.15),
          (8.21, 8.30), (7.63, 9.51), (5.14, 6.10), (4.20, 4.08)]
    f4 = [(18.46, 9.14), (10.82, 3.76), (59.86, 82.96), (15.60, 8.60), (12.11, 8.57), (19.17, 16.43),
          (22.61, 11.09), (71.59, 49.97), (27.18, 15.78), (26.73, 23.55), (19.86, 13.66)]
    cols = pd.MultiIndex.from_tuples([("f1 [%]", "AVG"), ("f1 [%]", "SD"), ("f4 [%]", "AVG"), ("f4 [%]", "SD")])
    body = pd.DataFrame([[*a, *b] for a, b in zip(f1, f4)], columns=cols, index=[f"Case{i}" for i in range(1, 12)])
    avg = with_average_row(body).loc["AVG"].to_numpy()
    np.testing.assert_allclose(avg, [5.53, 6.14, 27.64, 22.14], atol=0.006)


def test_matching_by_time_and_unmatched_counts():
    auto = _table({"f1": [0.5, 0.6, 0.7]}, ["a", "a", "a"], [-1, -1, -1])
    auto["time_s"] = [0.0, 1.0, 2.0]
    manual = _table({"f1": [0.5, 0.5]}, ["a", "a"], [-1, -1])
    manual["time_s"] = [1.0004, 3.0]
    merged = match_frames(auto, manual)
    assert len(merged) == 1 and merged.attrs["unmatched_auto"] == 2 and merged.attrs["unmatched_manual"] == 1


def test_video_key_used_only_when_both_sides_have_videos():
    auto = _table({}, ["a", "a"], [0, 0])
    auto["video"] = ["v1.mp4", "v2.mp4"]
    manual = _table({}, ["a", "a"], [0, 0])
    manual["video"] = ["v1.mp4", "v2.mp4"]
    assert len(match_frames(auto, manual)) == 2
    manual_no_video = _table({}, ["a"], [0])
    with pytest.raises(OocytesegError, match="sharing case/video/frame"):
        match_frames(auto, manual_no_video)


def test_missing_columns_raise_project_error():
    with pytest.raises(OocytesegError, match="lacks column"):
        compare(pd.DataFrame({"case": ["1"]}), _table({}, ["1"], [0]))


def test_markdown_layout_and_written_outputs(tmp_path):
    cases, frames = ["1", "1", "2"], [0, 1, 0]
    auto = _table({"f1": [0.7, 0.8, 0.6], "f3": [5.0, 6.0, -3.0]}, cases, frames)
    manual = _table({"f1": [0.75, 0.8, 0.65], "f3": [5.5, 5.0, -2.0]}, cases, frames)
    per_frame, per_case = compare(auto, manual)
    md = table_markdown(per_case).splitlines()
    assert md[0] == "|  | f1 [%] |  | f2 [%] |  | f3 [%] |  | f4 [%] |  |" and md[2].startswith("| | AVG | SD | AVG | SD")
    assert md[3].startswith("| Case1 | ") and md[5].startswith("| AVG | ")
    paths = write_comparison(per_frame, per_case, tmp_path)
    assert sorted(p.name for p in paths) == sorted(OUTPUTS)
    text = (tmp_path / "comparison.md").read_text()
    assert "Table 3" in text and "bland_altman_f4.png" in text
    assert (tmp_path / "bland_altman_f1.png").read_bytes()[:4] == b"\x89PNG"
    back = pd.read_csv(tmp_path / "table3_relative.csv")
    assert list(back["case"]) == ["Case1", "Case2", "AVG"] and "f1 [%] AVG" in back.columns
    with pytest.raises(OocytesegError, match="already exists"):
        write_comparison(per_frame, per_case, tmp_path)
