"""Startup script for the real QGIS desktop (`qgis --code scripts/desktop_session.py`), run by
scripts/desktop_session.sh: as a user would, with the plugin installed from its ZIP, run
`marscloudmask:cloudmask` on an MDGM with its outputs loaded, then record what the desktop shows
(layers, names, styles, CRS, message bar) in result.json and take a screenshot desktop.png.

Environment: MARS_CLOUDMASK_DESKTOP_OUT (folder for result.json, desktop.png, the mask),
MARS_CLOUDMASK_DESKTOP_MDGM (the MDGM), MARS_CLOUDMASK_DESKTOP_MODEL (optional model file),
MARS_CLOUDMASK_DESKTOP_REFERENCE (optional clear-sky reference file: the reference-aware model runs),
MARS_CLOUDMASK_DESKTOP_CLOSE_BAR (set: close the message bar before the screenshot, as a user would),
MARS_CLOUDMASK_DESKTOP_INSTALL_ARGS and _FOLDER (set: run "Install the network runtime" from its
dialog with these pip arguments into that folder, e.g. a local wheel, offline).
QGIS does not exit by itself (it asks about temporary layers): the caller ends it after result.json.
"""
import json
import os
import time
import traceback
from pathlib import Path

from qgis.core import QgsApplication, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QApplication, QDockWidget
from qgis.utils import iface, plugins

OUT = Path(os.environ["MARS_CLOUDMASK_DESKTOP_OUT"])
MDGM = os.environ["MARS_CLOUDMASK_DESKTOP_MDGM"]
MODEL = os.environ.get("MARS_CLOUDMASK_DESKTOP_MODEL")
REFERENCE = os.environ.get("MARS_CLOUDMASK_DESKTOP_REFERENCE")      # optional clear-sky reference file
SOL = Path(MDGM).name[:9]                                           # P01_day10 of P01_day10_zequat.jpg
STARTED = time.monotonic()
log_lines = []
QgsApplication.messageLog().messageReceived.connect(lambda message, tag, level: log_lines.append(f"[{tag}] {message}"))


def finish(result):
    (OUT / "result.json").write_text(json.dumps(result, indent=1) + "\n")


def message_bar_texts():
    bar = iface.messageBar()
    return [f"{item.title()} {item.text()}".strip() for item in bar.items()]


def run():
    result = {"plugin_loaded": "mars_cloudmask" in plugins}
    try:
        import processing
        from processing.core.ProcessingConfig import ProcessingConfig  # noqa: F401 (Processing is up)
        iface.mainWindow().setGeometry(QApplication.primaryScreen().availableGeometry())   # no window manager
        menu = next((a.menu() for a in iface.pluginMenu().actions() if a.menu() and "Mars Cloudmask" in a.text()), None)
        result["plugin_menu"] = [a.text() for a in menu.actions()] if menu else []
        toolbox = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
        if toolbox is not None:
            toolbox.show()
            from qgis.PyQt.QtWidgets import QLineEdit
            search = toolbox.findChild(QLineEdit)
            if search is not None:
                search.setText("cloud mask")           # the toolbox lists the plugin's algorithms
        registry = QgsApplication.processingRegistry()
        result["provider"] = registry.providerById("marscloudmask") is not None
        alg = registry.algorithmById("marscloudmask:cloudmask")
        result["can_execute"] = list(alg.canExecute())
        params = {"INPUT": MDGM, "LOAD_MDGM": True, "OUTPUT": str(OUT / f"{SOL}_cloudmask.tif")}
        if MODEL:
            params["MODEL"] = MODEL
        if REFERENCE:
            params["REFERENCE"] = REFERENCE
        from qgis.core import QgsProcessingFeedback

        class Recording(QgsProcessingFeedback):
            infos, progress = [], []

            def pushInfo(self, info):  # noqa: N802
                self.infos.append(info)
                super().pushInfo(info)
        feedback = Recording()
        feedback.progressChanged.connect(feedback.progress.append)
        started = time.monotonic()
        outputs = processing.runAndLoadResults("marscloudmask:cloudmask", params, feedback=feedback)
        result["infos"], result["progress"] = feedback.infos, [round(p, 1) for p in feedback.progress]
        result["run_seconds"] = round(time.monotonic() - started, 2)
        result["outputs"] = {k: v for k, v in outputs.items() if isinstance(v, (str, int, float))}
        project = QgsProject.instance()
        result["project_crs"] = project.crs().authid()
        root = project.layerTreeRoot()
        result["layers"] = [{"name": node.layer().name(), "crs": node.layer().crs().authid(),
                             "renderer": node.layer().renderer().type(),
                             "classes": [c.label for c in getattr(node.layer().renderer(), "classes", list)()],
                             "source": node.layer().source()} for node in root.findLayers()]
        canvas = iface.mapCanvas()
        canvas.setExtent(project.mapLayersByName(f"{SOL} cloud mask")[0].extent()
                         if project.mapLayersByName(f"{SOL} cloud mask") else canvas.fullExtent())
        canvas.refreshAllLayers()
    except Exception:  # noqa: BLE001 (the caller reads what went wrong)
        result["error"] = traceback.format_exc()
    QTimer.singleShot(6000, lambda: shoot(result))


def shoot(result):
    try:
        result["message_bar"] = message_bar_texts()
        if os.environ.get("MARS_CLOUDMASK_DESKTOP_CLOSE_BAR"):
            iface.messageBar().clearWidgets()           # as a user closes it (docs/qgis.md explains the bar)
            QApplication.processEvents()
        result["log"] = log_lines[-40:]
        # the tree as the screenshot shows it, seconds later: a layer the tree lost is gone by now
        tree = QgsProject.instance().layerTreeRoot()
        result["layers_at_screenshot"] = [node.layer().name() for node in tree.findLayers() if node.layer() is not None]
        screen = QApplication.primaryScreen()
        image = screen.grabWindow(iface.mainWindow().winId())
        result["screenshot"] = str(OUT / "desktop.png") if image.save(str(OUT / "desktop.png"), "PNG") else None
    except Exception:  # noqa: BLE001
        result["error"] = (result.get("error") or "") + traceback.format_exc()
    open_install_dialog(result)
    run_install_from_its_dialog(result)
    result["seconds_since_start"] = round(time.monotonic() - STARTED, 1)
    finish(result)
    QgsProject.instance().setDirty(False)


def run_install_from_its_dialog(result):
    """With MARS_CLOUDMASK_DESKTOP_INSTALL_ARGS (pip arguments, e.g. a local wheel) and
    MARS_CLOUDMASK_DESKTOP_INSTALL_FOLDER: open the install's dialog with them, press Run, wait for
    the end, keep the dialog's log (install_log.txt) and picture (install_run.png), close it."""
    args, folder = (os.environ.get(f"MARS_CLOUDMASK_DESKTOP_INSTALL_{k}") for k in ("ARGS", "FOLDER"))
    if not args:
        return
    import processing
    from qgis.gui import QgsProcessingAlgorithmDialogBase
    state = {}
    log_file = OUT / "install_log.txt"

    def press_run():
        dialogs = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, QgsProcessingAlgorithmDialogBase) and w.isVisible()]
        if not dialogs:
            result["install_run"] = {"error": "no install dialog"}
            return
        state["dialog"], state["started"] = dialogs[0], time.monotonic()
        dialogs[0].runButton().click()
        QTimer.singleShot(500, poll)

    def poll():
        dialog = state["dialog"]
        dialog.saveLogToFile(str(log_file), QgsProcessingAlgorithmDialogBase.FormatPlainText)
        text = log_file.read_text() if log_file.exists() else ""
        seconds = time.monotonic() - state["started"]
        if "the network runtime" in text and "Results" in text or "Execution failed" in text or seconds > 120:
            dialog.grab().save(str(OUT / "install_run.png"), "PNG")
            result["install_run"] = {"seconds": round(seconds, 1), "log": text.splitlines()[-60:]}
            dialog.reject()
        else:
            QTimer.singleShot(500, poll)
    QTimer.singleShot(2000, press_run)
    processing.execAlgorithmDialog("marscloudmask:installruntime", {"FOLDER": folder, "REQUIREMENTS": args})


def open_install_dialog(result):
    """Plugins > Mars Cloudmask > Install the network runtime...: its dialog opens (modal); record its
    title, take its picture and close it without running."""
    def grab():
        from qgis.PyQt.QtWidgets import QDialog
        dialogs = [w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()]
        result["dialogs"] = [w.windowTitle() for w in dialogs]
        dialog = next((w for w in dialogs if "network runtime" in w.windowTitle()), None)
        result["install_dialog"] = dialog.windowTitle() if dialog else None
        if dialog is not None:
            dialog.grab().save(str(OUT / "install_dialog.png"), "PNG")
        for w in dialogs:
            w.reject()
    try:
        menu = next(a.menu() for a in iface.pluginMenu().actions() if a.menu() and "Mars Cloudmask" in a.text())
        QTimer.singleShot(3000, grab)
        next(a for a in menu.actions() if a.text().startswith("Install")).trigger()   # returns when closed
    except Exception:  # noqa: BLE001
        result["error"] = (result.get("error") or "") + traceback.format_exc()


def watchdog(seconds=150):
    """Should the desktop hang (a modal dialog, a stuck run), say so in result.json, with where the
    main thread is stuck (stack dump in stacks.txt), instead of leaving the caller to time out."""
    import faulthandler
    import threading
    stacks = open(OUT / "stacks.txt", "w")                # noqa: SIM115 (open while QGIS runs)
    faulthandler.dump_traceback_later(seconds, file=stacks)

    def give_up():
        if not (OUT / "result.json").exists():
            finish({"error": f"no result after {seconds} s: see stacks.txt for where QGIS was stuck",
                    "log": log_lines[-40:]})
    timer = threading.Timer(seconds + 1, give_up)
    timer.daemon = True
    timer.start()


watchdog()
QTimer.singleShot(3000, run)      # let the desktop finish starting (plugins, toolbox) first
