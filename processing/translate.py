"""Qt translation of the plugin's user-facing texts."""
from qgis.PyQt.QtCore import QCoreApplication


def tr(text):
    return QCoreApplication.translate("MarsCloudmask", text)
