"""The phantom's oocyte-anatomy mask: agrees with the ICSI mask and with the case's own geometry."""

import math

import numpy as np
import pytest

from oocyteseg.classes import OOCYTE_ANATOMY
from oocyteseg.morphometry import anatomy_features, oocyte_region
from oocyteseg.morphometry.shapes import fill_holes
from oocyteseg.phantom.params import sample_case
from oocyteseg.phantom.render import (NEEDLE, OOCYTE, OOPLASM, POLAR_BODY, PVS, SERC, ZONA, anatomy_mask,
                                      render_frame)


def _times(case):
    n = case.needle
    return (0.1, n.t_break - 0.02, n.t_break + 0.03, n.t_deepest, 1.0)  # approach, indent, break, deepest, end


def test_indices_follow_the_label_set_roles():
    assert (ZONA, PVS, OOPLASM, POLAR_BODY) == (1, 2, 3, 4)
    assert [OOCYTE_ANATOMY.role(r) for r in ("zona", "pvs", "ooplasm", "polar_body")] == [1, 2, 3, 4]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_ooplasm_is_the_icsi_oocyte_region(seed):
    case = sample_case(seed, "c")
    for u in _times(case):
        anatomy = anatomy_mask(case, u, frame_index=7)
        _, icsi = render_frame(case, u, frame_index=7)
        _, bare = render_frame(case, u, frame_index=7, draw_needle=False)
        ooplasm = anatomy == OOPLASM
        # exactly oocyte + sERC of the ICSI mask, with the needle's part inside the oolemma
        assert np.array_equal(ooplasm, np.isin(bare, [OOCYTE, SERC]))
        assert not (np.isin(icsi, [OOCYTE, SERC]) & ~ooplasm).any()
        assert not (ooplasm & ~np.isin(icsi, [OOCYTE, SERC, NEEDLE])).any()
        # and the oocyte region the ICSI features measure (needle inside the hull added) nearly equals it
        region = oocyte_region(icsi)[0] > 0
        assert (region & ooplasm).sum() / (region | ooplasm).sum() > 0.99


@pytest.mark.parametrize("seed", [0, 4])
def test_layers_nest_and_the_needle_is_not_labelled(seed):
    case = sample_case(seed, "c")
    u = case.needle.t_break - 0.02  # the needle presses on the zona and dents the oolemma
    anatomy = anatomy_mask(case, u, frame_index=3)
    _, icsi = render_frame(case, u, frame_index=3)
    assert set(np.unique(anatomy)) <= {0, 1, 2, 3, 4}
    # the zona ring (closed by the polar body where it bulges through) encloses PVS and ooplasm
    inside_zona = fill_holes(np.isin(anatomy, [ZONA, POLAR_BODY])) > 0
    assert inside_zona[np.isin(anatomy, [PVS, OOPLASM])].all()
    under_needle = anatomy[icsi == NEEDLE]
    assert (under_needle == ZONA).any() and (under_needle == PVS).any()  # labelled by what is under it
    assert (anatomy == POLAR_BODY).any() == (case.oocyte.polar_body is not None)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5])
def test_features_recover_the_case_geometry(seed):
    case = sample_case(seed, "c")
    f = anatomy_features(anatomy_mask(case, 0.8, frame_index=5), OOCYTE_ANATOMY)
    assert abs(f["zona_thickness_mean"] - case.oocyte.zona) <= 1.0
    if case.oocyte.polar_body is None:
        assert f["polar_body_present"] == 0 and "no_polar_body" in f["reason"]
        return
    # phantom angle: from +x towards +y (down); clock angle: from 12 o'clock, clockwise on screen
    clock = (90.0 + math.degrees(case.oocyte.polar_body[0])) % 360
    assert f["polar_body_present"] == 1 and f["polar_body_count"] == 1
    assert abs((f["polar_body_angle_deg"] - clock + 180) % 360 - 180) < 3.0
