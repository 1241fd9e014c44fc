"""Speech-to-text engines behind one Protocol (see base.py)."""
