import math

import numpy as np
import pandas as pd
import pytest

from oocyteseg.cli.main import main
from oocyteseg.io.images import write_mask
from oocyteseg.morphometry.table import features_from_source, features_table, iter_masks, read_features, write_features
from oocyteseg.phantom.dataset import PhantomConfig, make_phantom_dataset

from .shapes_util import icsi_scene


@pytest.fixture(scope="module")
def phantom(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantom")
    cfg = PhantomConfig(cases=2, seconds=1.5, fps=2, label_fps=2, height=240, width=320, video_formats=(),
                        inclusion_images=1, inclusion_size=64)
    return make_phantom_dataset(out, cfg)


def test_features_table_columns_and_missing_mask():
    items = [({"case": "1", "video": "v.mp4", "frame_index": 3, "time_s": 0.125}, icsi_scene()),
             ({"case": "1", "video": "v.mp4", "frame_index": 4}, None),
             ({"case": "i", "labelset": "inclusions"}, np.zeros((32, 32), np.uint8))]
    df = features_table(items, pixel_size_um=0.25)
    assert list(df.columns[:8]) == ["case", "video", "time_s", "frame_index", "f1", "f2", "f3", "f4"]
    assert df.columns[-1] == "reason"
    assert list(df["reason"]) == ["", "no_mask", "no_inclusion"]
    assert math.isnan(df.loc[1, "f1"]) and df.loc[1, "frame_index"] == 4
    assert df.loc[0, "f3"] == pytest.approx(20, abs=1.5) and "oocyte_area_um2" in df.columns
    assert features_table([]).empty


def test_folder_of_masks_parses_frame_names(tmp_path):
    write_mask(tmp_path / "caseA_f00012_t0000.500.png", icsi_scene())
    write_mask(tmp_path / "sub" / "other.png", icsi_scene(needle=False))
    metas = [m for m, _ in iter_masks(tmp_path)]
    assert metas[0]["case"] == "caseA" and metas[0]["frame_index"] == 12 and metas[0]["time_s"] == 0.5
    assert metas[1]["case"] == "sub/other" and metas[1]["frame_index"] == -1


def test_write_both_formats_and_read_back(tmp_path):
    df = features_table([({"case": "7", "frame_index": 0}, icsi_scene(serc=False))])
    paths = write_features(df, tmp_path / "f.parquet")
    assert sorted(p.name for p in paths) == ["f.csv", "f.parquet"]
    for p in paths:
        back = read_features(p)
        assert back.loc[0, "case"] == "7" and back.loc[0, "reason"] == "no_serc"
        assert back.loc[0, "f3"] == pytest.approx(df.loc[0, "f3"])
    from oocyteseg.errors import OutputExistsError
    with pytest.raises(OutputExistsError):
        write_features(df, tmp_path / "f.csv")


def test_cli_features_and_compare_on_phantom(phantom, tmp_path, capsys):
    manual = tmp_path / "manual.csv"
    assert main(["features", str(phantom), "--out", str(manual), "--pixel-size", "0.3"]) == 0
    df = pd.read_csv(manual)
    icsi = df[df["labelset"] == "icsi"]
    assert len(icsi) == 6 and icsi["f3"].notna().all() and "qc_jump" in df.columns
    assert (tmp_path / "manual.parquet").is_file()
    # an "automatic" table: the same masks with every needle shortened by 2 px
    auto = df.copy()
    auto["f3"] = auto["f3"] + 2.0
    auto.to_csv(tmp_path / "auto.csv", index=False)
    out = tmp_path / "cmp"
    assert main(["compare", "--auto", str(tmp_path / "auto.csv"), "--manual", str(manual), "--out", str(out)]) == 0
    absolute = pd.read_csv(out / "table_absolute.csv")
    assert absolute["f3 [px] AVG"].to_numpy() == pytest.approx(2.0)
    assert "6 matched frames" in capsys.readouterr().out.replace("\n", " ")
    assert main(["compare", "--auto", str(tmp_path / "auto.csv"), "--manual", str(manual), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_library_table_is_the_one_the_cli_writes(phantom, tmp_path):
    """`features_from_source` already holds the temporal QC the CLI writes: the two tables are equal."""
    out = tmp_path / "cli.parquet"
    assert main(["features", str(phantom), "--out", str(out), "--pixel-size", "0.3"]) == 0
    library = features_from_source(phantom, 0.3)
    assert {"qc", "qc_jump"} <= set(library.columns)
    pd.testing.assert_frame_equal(pd.read_parquet(out), library.reset_index(drop=True), check_dtype=False,
                                  check_exact=True)  # parquet reads text back as pandas strings


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["features", str(tmp_path / "nope"), "--out", str(tmp_path / "x.csv")]) == 2
    assert main(["features", str(tmp_path), "--out", str(tmp_path / "x.txt")]) == 2
    err = capsys.readouterr().err
    assert "Fix:" in err and "Traceback" not in err


def test_cli_folder_inclusions_and_bad_options(tmp_path, capsys):
    m = np.zeros((64, 64), np.uint8)
    m[10:20, 10:20] = 1
    write_mask(tmp_path / "masks" / "incl1.png", m)
    out = tmp_path / "incl.parquet"
    assert main(["features", str(tmp_path / "masks"), "--out", str(out), "--labelset", "inclusions"]) == 0
    df = pd.read_parquet(out)
    assert df.loc[0, "inclusion_count"] == 1 and df.loc[0, "inclusion_area_total"] == 100
    assert main(["features", str(tmp_path / "masks"), "--out", str(out), "--labelset", "nope"]) == 2
    assert main(["features", str(tmp_path / "masks"), "--out", str(tmp_path / "y.csv"), "--pixel-size", "-1"]) == 2
    a = features_table([({"case": "1", "frame_index": 0}, icsi_scene())])
    b = features_table([({"case": "2", "frame_index": 0}, icsi_scene())])
    write_features(a, tmp_path / "a.csv")
    write_features(b, tmp_path / "b.csv")
    assert main(["compare", "--auto", str(tmp_path / "a.csv"), "--manual", str(tmp_path / "b.csv"),
                 "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "no frame of the automatic table matches" in err
    assert "nope: classes file not found" in err and "built-in name (icsi, inclusions, oocyte-anatomy, icsi-injection)" in err
