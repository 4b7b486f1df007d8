"""What a person looks at: JSON, frame pictures, a contact sheet and a timeline plot.

Names load on first use (``hfs.lazy``): ``format_time`` does not import matplotlib. The contact
sheet's builder is ``hfs.report.contact_sheet.contact_sheet``: the package's attribute of that name
is its module, as Python's import system sets it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hfs.lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    "save_contact_sheet": ".contact_sheet", "format_time": ".timefmt",
    "save_timeline": ".timeline", "frame_filename": ".writer", "write_outputs": ".writer",
})

if TYPE_CHECKING:
    from hfs.report.contact_sheet import save_contact_sheet
    from hfs.report.timefmt import format_time
    from hfs.report.timeline import save_timeline
    from hfs.report.writer import frame_filename, write_outputs

__all__ = ["format_time", "frame_filename", "save_contact_sheet", "save_timeline", "write_outputs"]
