"""Studio Status: a desktop status strip and tray, and the status hub it talks to."""

__all__ = ["__version__"]

__version__ = "0.1.0"
