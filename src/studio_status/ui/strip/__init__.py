"""The docked status strip: one small widget per segment, composed by :mod:`.bar`."""

from .bar import ADMIN_SEGMENTS, StatusStrip

__all__ = ["ADMIN_SEGMENTS", "StatusStrip"]
