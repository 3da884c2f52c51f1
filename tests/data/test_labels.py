"""The label set of a data set: the classes file written beside its manifest wins over a bare name, and a
run whose classes disagree with it is refused with one line naming the manifest."""

import pytest

from oocyteseg.classes import ICSI, LabelSet
from oocyteseg.data.labels import dataset_labels, manifest_labels, write_dataset_classes
from oocyteseg.errors import OocytesegError
from oocyteseg.io.classes_file import as_classes

EMBRYO = LabelSet("embryo", ("background", "embryo"), ((0, 0, 0), (200, 80, 80)))


@pytest.fixture
def data(tmp_path):
    (tmp_path / "manifest.csv").write_text("case,image,mask,labelset\nc1,a.png,m.png,embryo\n")
    write_dataset_classes(as_classes(EMBRYO), tmp_path)
    return tmp_path


def test_a_bare_name_is_the_classes_file_beside_the_manifest(data):
    labels = dataset_labels([data / "manifest.csv"], "embryo")
    assert labels.classes == EMBRYO.classes and labels.colors == EMBRYO.colors
    assert manifest_labels(data / "manifest.csv", "embryo") == labels
    assert dataset_labels([data], "icsi") == ICSI  # another label set's name: the built-in


def test_classes_that_disagree_with_the_data_are_refused(data, tmp_path):
    swapped = LabelSet("embryo", ("embryo", "background"), ((200, 80, 80), (0, 0, 0)))
    with pytest.raises(OocytesegError, match=r"written with classes \['background', 'embryo'\]") as err:
        dataset_labels([data], swapped)
    assert "manifest.csv" in err.value.one_line()
    with pytest.raises(OocytesegError, match="unknown label set 'zebra'; valid: icsi, inclusions, oocyte-anatomy"):
        dataset_labels([data], "zebra")
    with pytest.raises(OocytesegError, match="neither built in"):
        manifest_labels(data, "zebra")
