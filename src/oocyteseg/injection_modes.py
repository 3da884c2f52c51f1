"""The breakage modes of the oolemma under the ICSI needle (issue #17), in the clinical papers' terms.

Nagy et al. 1995 (types A-E) and Danfour & Elmahaishi 2010 (no resistance / curved / funnel-shaped):
the names are used everywhere (phantom ground truth, the detector's reading, tables).
"""

MODES = ("pressure", "shallow", "no_resistance", "repeated")
MODE_TEXT = {"pressure": "pressure breakage with a funnel (cone)", "shallow": "breakage after a shallow curve of the oolemma", "no_resistance": "breakage with no resistance", "repeated": "repeated pricking (two or more attempts)"}
