"""safecities: make the federal "Plan for Major Cities" against urban gun violence workable.

Place-based, never person-based: no names, demographics or face recognition anywhere.
"""

__version__ = "0.1.0"
