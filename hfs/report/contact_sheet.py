"""A contact sheet: the chosen frames in a grid, each labelled with its time and score."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from hfs.atomic import atomic_file
from hfs.report.timefmt import format_time


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size default font
        return ImageFont.load_default()


def contact_sheet(
    images: Sequence[np.ndarray],
    times: Sequence[float],
    scores: Sequence[float],
    indices: Sequence[int],
    title: str = "",
    thumb_width: int = 320,
    columns: int | None = None,
    frames: Sequence[int] | None = None,
) -> Image.Image:
    """Grid of thumbnails with '#index  frame F  mm:ss.s  score' under each (``frames``: the
    source video's frame numbers, left out when None) and ``title`` on top."""
    if not images:
        raise ValueError("no frames to put on a contact sheet")
    columns = columns or math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / columns)
    h0, w0 = images[0].shape[:2]
    thumb_h = max(1, round(thumb_width * h0 / w0))
    pad, label_h = 8, 22
    font, title_font = _font(15), _font(18)
    title_lines = textwrap.wrap(title, width=max(20, columns * thumb_width // 10))[:3] if title else []
    title_h = 24 * len(title_lines) + (pad if title_lines else 0)
    width = columns * (thumb_width + pad) + pad
    height = title_h + rows * (thumb_h + label_h + pad) + pad
    sheet = Image.new("RGB", (width, height), (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    for i, line in enumerate(title_lines):
        draw.text((pad, pad + 24 * i), line, fill=(240, 240, 240), font=title_font)
    for n, (image, t, s, idx) in enumerate(zip(images, times, scores, indices)):
        frame = f"  frame {frames[n]}" if frames is not None else ""
        r, c = divmod(n, columns)
        x = pad + c * (thumb_width + pad)
        y = title_h + pad + r * (thumb_h + label_h + pad)
        thumb = Image.fromarray(image).resize((thumb_width, thumb_h), Image.BILINEAR)
        sheet.paste(thumb, (x, y))
        draw.text((x + 2, y + thumb_h + 3), f"#{idx}{frame}  {format_time(t)}  score {s:+.2f}", fill=(230, 230, 230), font=font)
    return sheet


def save_contact_sheet(path: str | Path, *args, **kwargs) -> Path:
    """Write the contact sheet to ``path`` atomically (a symlink planted there is replaced)."""
    path = Path(path)
    sheet = contact_sheet(*args, **kwargs)
    with atomic_file(path, "the contact sheet") as tmp:
        sheet.save(tmp, format="PNG")
    return path
