"""Render the README's phantom figures into docs/: an ICSI frame, its mask overlay, an inclusion close-up.

Run: .venv/bin/python scripts/phantom_figures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from oocyteseg.classes import ICSI, INCLUSIONS
from oocyteseg.io.images import write_image
from oocyteseg.phantom.inclusions import render_closeup
from oocyteseg.phantom.params import sample_case
from oocyteseg.phantom.render import render_frame
from oocyteseg.reports.overlay import overlay_mask

docs = Path(__file__).resolve().parents[1] / "docs"
case = sample_case(3, "case03")
frames = [render_frame(case, u, frame_index=i) for i, u in enumerate((0.2, case.needle.t_break - 0.02, 0.8))]
image, mask = frames[1]
half = (slice(None, None, 2), slice(None, None, 2))  # small files for the README
write_image(docs / "phantom-icsi-frame.png", image[half])
write_image(docs / "phantom-icsi-overlay.png", overlay_mask(image, mask, ICSI)[half])
strip = np.concatenate([f[0][::3, ::3] for f in frames], axis=1)
write_image(docs / "phantom-icsi-sequence.png", strip)
closeup, inc_mask, _ = render_closeup(7, count=5)
write_image(docs / "phantom-inclusions.png",
            np.concatenate([closeup, overlay_mask(closeup, inc_mask, INCLUSIONS, alpha=0.8)], axis=1))
print("figures written to", docs)
