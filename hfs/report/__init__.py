"""What a person looks at: JSON, frame pictures, a contact sheet and a timeline plot."""

from hfs.report.contact_sheet import contact_sheet, save_contact_sheet
from hfs.report.timefmt import format_time
from hfs.report.timeline import save_timeline
from hfs.report.writer import frame_filename, write_outputs

__all__ = ["contact_sheet", "format_time", "frame_filename", "save_contact_sheet", "save_timeline", "write_outputs"]
