"""Features from label masks: Shimotsu f1-f4 and more, anatomy, needle tip, auto-vs-manual comparison."""

from oocyteseg.morphometry.anatomy import anatomy_features
from oocyteseg.morphometry.compare import (absolute_error, case_table, compare, match_frames, relative_error,
                                           table_markdown)
from oocyteseg.morphometry.features import frame_features, inclusion_features, oocyte_region
from oocyteseg.morphometry.needle import NeedleTip, needle_tip
from oocyteseg.morphometry.table import features_from_source, features_table, iter_masks, read_features, write_features
from oocyteseg.morphometry.temporal import flag_jumps, smooth_trajectory

__all__ = ["NeedleTip", "absolute_error", "anatomy_features", "case_table", "compare", "features_from_source",
           "features_table", "flag_jumps", "frame_features", "inclusion_features", "iter_masks", "match_frames", "needle_tip",
           "oocyte_region", "read_features", "relative_error", "smooth_trajectory", "table_markdown",
           "write_features"]
