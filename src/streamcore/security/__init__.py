"""Leaf package: token codecs and password hashing. Imports nothing else of streamcore."""
