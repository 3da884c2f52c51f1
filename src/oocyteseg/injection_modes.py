"""Breakage modes of the oolemma at ICSI, named once for the phantom, the detector and the tables.

The modes follow the clinical literature: Nagy et al., Hum Reprod 1995 (five modes of oolemma
breakage, type A: pricked once with no suction ... type E: pricked twice or more) and Danfour &
Elmahaishi, MEFS J 2010 (no-resistance breakage vs a curved vs a funnel-shaped oolemma).
"""

MODES = ("pressure", "shallow", "no_resistance", "repeated")
MODE_TEXT = {
    "pressure": "pressure breakage with a funnel (cone)",
    "shallow": "breakage after a shallow curve of the oolemma",
    "no_resistance": "breakage with no resistance",
    "repeated": "repeated pricking (two or more attempts)",
}
