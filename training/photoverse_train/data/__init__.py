"""Training data for PhotoVerse-mini: the procedural synthetic identity data set
(see synthetic_faces.py)."""
