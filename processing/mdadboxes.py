"""[mdadboxes] Storm boxes from a Mars Dust Activity Database table, as a GeoPackage layer."""
from qgis.core import (QgsProcessing, QgsProcessingParameterFile,
                       QgsProcessingParameterNumber, QgsProcessingParameterVectorDestination)

from .algorithm import EngineAlgorithm
from .parameters import geopackage_output, input_file, optional_number
from .runtime import BASE_MODULES
from .translate import tr

TABLE_FILTER = "MDAD tables (*.csv *.CSV *.txt);;All files (*.*)"


class MdadBoxesAlgorithm(EngineAlgorithm):
    NAME = "mdadboxes"
    DISPLAY_NAME = "Dust storm boxes from an MDAD table"
    GROUP, GROUP_ID = "Analyses", "analyses"
    TAGS = ("dust", "dust storm", "MDAD", "Mars Dust Activity Database", "GeoPackage", "boxes")
    MODULES = BASE_MODULES
    HELP = """
Reads a table of the Mars Dust Activity Database (MDAD, Battalio and Wang 2021): the v1.0 table
(columns Mars Year, Ls, Centroid latitude, Centroid longitude, Area (square km), Sequence ID, Sol
...) or the v1.1 master CSV (subphase, sol, mem_ID, seq_ID, confidence_flag, area, swathLs,
centroid_lon, centroid_lat). The layout is told from the header.

Writes one box per storm instance to a GeoPackage polygon layer in IAU_2015:49900: a rectangle
between two meridians and two parallels centred on the storm's centroid, as tall (km) as it is
wide at the centroid, with exactly the stated area on the Mars sphere (radius 3396190 m). A box
across the antimeridian is split in two parts. A box reaching a pole is clipped there and widened
in longitude to keep its area; one that would then pass a full circle is a ring around the pole,
smaller than stated. Every column of the table is kept, plus box_km2 (the box's own area) and, for
v1.1, sol_name (P01_day10: the MDGM, to match the boxes to its cloud mask).

Minimum confidence keeps the v1.1 storms whose confidence_flag is at least that value; v1.0 tables
have no confidence flag and are refused with it.
"""
    INPUT, MIN_CONFIDENCE, OUTPUT, COUNT = "INPUT", "MIN_CONFIDENCE", "OUTPUT", "COUNT"

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterFile(self.INPUT, tr("MDAD table (CSV)"),
                                            behavior=QgsProcessingParameterFile.File, fileFilter=TABLE_FILTER),
                 "The MDAD v1.0 storm table or the v1.1 master CSV, comma-separated with a header line.")
        number = QgsProcessingParameterNumber
        self.add(number(self.MIN_CONFIDENCE, tr("Minimum confidence flag"), number.Double, optional=True),
                 "Keep only storms whose confidence_flag is at least this value (MDAD v1.1 only). Empty: all.")
        self.add(QgsProcessingParameterVectorDestination(self.OUTPUT, tr("Storm boxes"),
                                                         type=QgsProcessing.TypeVectorPolygon),
                 "GeoPackage (.gpkg) polygon layer in IAU_2015:49900, one feature per storm instance.")
        self.add_number_output(self.COUNT, "Number of storm boxes written")

    def process(self, parameters, context, feedback):
        from ..mars_cloudmask_plugin import mdad
        result = mdad.mdad_boxes(input_file(self, parameters, self.INPUT, context, tr("MDAD table")),
                                 geopackage_output(self, parameters, self.OUTPUT, context),
                                 optional_number(self, parameters, self.MIN_CONFIDENCE, context))
        feedback.pushInfo(tr("{} table: {} of {} storms written as boxes ({} clipped at a pole, {} smaller than "
                             "stated)").format(result.layout, result.count, result.total, result.clipped,
                                               result.smaller))
        feedback.setProgress(100)
        return {self.OUTPUT: str(result.output), self.COUNT: result.count}
