"""Plug-ins that let other tools use hfs's frame selection (``hfs.integrations.lmms``: lmms-eval)."""
