"""Reading page images in tests."""

from __future__ import annotations

from typing import Any


def yellow_pixels(image: Any, box: tuple[int, int, int, int] | None = None) -> int:
    """Pixels where the highlight shows: red and green well above blue (the page itself is
    black text on white, grey where anti-aliased)."""
    region = image.convert("RGB").crop(box) if box else image.convert("RGB")
    data = region.tobytes()  # r, g, b, r, g, b, ...
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for r, g, b in pixels if r - b > 60 and g - b > 40)
