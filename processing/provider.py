"""The Processing provider `marscloudmask`: the toolbox entry of Mars Cloudmask."""
from qgis.core import QgsProcessingProvider

from .algorithm import ICON_PATH
from .batchcloudmask import BatchCloudMaskAlgorithm
from .clearskyreference import ClearSkyReferenceAlgorithm
from .cloudfrequency import CloudFrequencyAlgorithm
from .cloudinpolygons import CloudInPolygonsAlgorithm
from .cloudmask import CloudMaskAlgorithm
from .cloudprobability import CloudProbabilityAlgorithm
from .cloudseries import CloudSeriesAlgorithm
from .georeferencemdgm import GeoreferenceMdgmAlgorithm
from .installruntime import InstallRuntimeAlgorithm
from .mdadboxes import MdadBoxesAlgorithm
from .mdadmask import MdadMaskAlgorithm
from .polarcrop import PolarCropAlgorithm
from .postfilter import PostFilterAlgorithm
from .runtime import MODEL_MODULES, as_rich_text, plan
from .translate import tr
from .zonalclimatology import ZonalClimatologyAlgorithm

ALGORITHMS = (GeoreferenceMdgmAlgorithm, PolarCropAlgorithm, CloudProbabilityAlgorithm, PostFilterAlgorithm,
              CloudMaskAlgorithm, BatchCloudMaskAlgorithm, ClearSkyReferenceAlgorithm, CloudFrequencyAlgorithm, ZonalClimatologyAlgorithm, CloudSeriesAlgorithm,
              CloudInPolygonsAlgorithm, MdadBoxesAlgorithm, MdadMaskAlgorithm, InstallRuntimeAlgorithm)


class MarsCloudmaskProvider(QgsProcessingProvider):
    def id(self):
        return "marscloudmask"

    def name(self):
        return tr("Mars Cloudmask")

    def longName(self):  # noqa: N802
        return tr("Mars Cloudmask: water-ice cloud masks from MARCI Mars Daily Global Maps")

    def icon(self):
        from qgis.PyQt.QtGui import QIcon
        return QIcon(str(ICON_PATH))

    def svgIconPath(self):  # noqa: N802
        return str(ICON_PATH)

    def versionInfo(self):  # noqa: N802
        from .. import mars_cloudmask_plugin
        return mars_cloudmask_plugin.__version__

    def supportedOutputRasterLayerExtensions(self):  # noqa: N802
        return ["tif"]

    def supportsNonFileBasedOutput(self):  # noqa: N802
        return False   # every output is a file written by the engine

    def warningMessage(self):  # noqa: N802
        """Shown in the toolbox: the provider stays usable (the steps without a model run without
        TensorFlow), but the user learns at once what is missing and how to install it (rich text)."""
        return as_rich_text(plan(MODEL_MODULES).problem)

    def loadAlgorithms(self):  # noqa: N802
        for algorithm in ALGORITHMS:
            self.addAlgorithm(algorithm())
