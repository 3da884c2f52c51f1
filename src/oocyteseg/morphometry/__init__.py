"""Features from label masks: Shimotsu f1-f4 and more, needle tip, auto-vs-manual comparison."""

from oocyteseg.morphometry.features import frame_features, inclusion_features, oocyte_region
from oocyteseg.morphometry.needle import NeedleTip, needle_tip

__all__ = ["NeedleTip", "frame_features", "inclusion_features", "needle_tip", "oocyte_region"]
