"""The QGIS side of Mars Cloudmask: the Processing provider and one thin algorithm per step.

Imported only as a subpackage of the installed plugin (e.g. `mars_cloudmask.processing`), never
as a top-level `processing` (that name is QGIS's own framework).
"""
