"""streamcore: a self-hostable video platform backend."""

__version__ = "0.1.0"
