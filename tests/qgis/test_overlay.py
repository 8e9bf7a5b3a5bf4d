"""Overlay on Mars: a cloud pixel of our mask, the cell of a DEM in the MOLA mosaic's own CRS
(equirectangular metres on the Mars sphere, R = 3396190 m, as the USGS MOLA 463 m product) and the
MDAD-style dust-storm box (centre lon/lat and a size) that contain the same place must coincide when
QGIS transforms known points between them."""
import math

import numpy as np
import pytest

MARS_R = 3396190.0
MOLA_CELL = 463.0836                          # metres (1/128 degree on the Mars sphere)
# The CRS of the USGS MGS MOLA 463 m global mosaic, as its GeoTIFF declares it.
MOLA_WKT = ('PROJCS["Equirectangular Mars",GEOGCS["GCS_Mars",DATUM["D_Mars",SPHEROID["Mars_2000_IAU_IAG",3396190,0]],'
            'PRIMEM["Reference_Meridian",0],UNIT["Degree",0.0174532925199433]],PROJECTION["Equirectangular"],'
            'PARAMETER["standard_parallel_1",0],PARAMETER["central_meridian",0],PARAMETER["false_easting",0],'
            'PARAMETER["false_northing",0],UNIT["metre",1]]')
DEM_SIZE = 96                                 # cells a side: about 44 km, a fraction of a 0.1 degree pixel row


def _mask_pixel_of(lon, lat):
    return int(round((90.0 - lat) / 0.1)), int(round((lon + 180.0) / 0.1))


@pytest.fixture
def mask_path(engine_mask, tmp_path):
    from mars_cloudmask_plugin.writers import write_geotiff
    return write_geotiff(tmp_path / "mask.tif", engine_mask.mask, {"LS": "136.5"})


@pytest.fixture
def cloud_pixel(engine_mask):
    """(row, col, lon, lat) of a cloud pixel well inside the map with cloud around it."""
    mask = engine_mask.mask
    rows, cols = np.nonzero(mask[700:1100, 1200:2400] == 1)
    row, col = int(rows[len(rows) // 2]) + 700, int(cols[len(cols) // 2]) + 1200
    return row, col, -180.0 + 0.1 * col, 90.0 - 0.1 * row


def _write_dem(path, lon, lat, transform_to_mola):
    """A small DEM on the MOLA mosaic grid (cell edges at multiples of 463.0836 m from the
    mosaic's west/north edges) around lon/lat; value = 10000 * row + col of the cell, to identify it."""
    import rasterio
    from rasterio.transform import Affine
    x, y = transform_to_mola(lon, lat)
    west, north = -math.pi * MARS_R, math.pi / 2 * MARS_R          # the global mosaic's outer edges
    col0 = int((x - west) // MOLA_CELL) - DEM_SIZE // 2
    row0 = int((north - y) // MOLA_CELL) - DEM_SIZE // 2
    transform = Affine(MOLA_CELL, 0, west + col0 * MOLA_CELL, 0, -MOLA_CELL, north - row0 * MOLA_CELL)
    values = (10000 * np.arange(DEM_SIZE)[:, None] + np.arange(DEM_SIZE)[None, :]).astype(np.int32)
    with rasterio.open(path, "w", driver="GTiff", width=DEM_SIZE, height=DEM_SIZE, count=1, dtype="int32",
                       crs=MOLA_WKT, transform=transform) as dst:
        dst.write(values, 1)
    return path, transform


def _storm_boxes(centres):
    """MDAD-style dust-storm boxes in lon/lat (IAU_2015:49900): centre and size in degrees."""
    from qgis.core import QgsFeature, QgsField, QgsGeometry, QgsRectangle, QgsVectorLayer
    from qgis.PyQt.QtCore import QVariant
    layer = QgsVectorLayer("Polygon?crs=IAU_2015:49900", "dust storms", "memory")
    fields = [QgsField("storm", QVariant.String), QgsField("lon", QVariant.Double), QgsField("lat", QVariant.Double),
              QgsField("width_deg", QVariant.Double), QgsField("height_deg", QVariant.Double)]
    layer.dataProvider().addAttributes(fields)
    layer.updateFields()
    features = []
    for name, lon, lat, w, h in centres:
        f = QgsFeature(layer.fields())
        f.setAttributes([name, lon, lat, w, h])
        f.setGeometry(QgsGeometry.fromRect(QgsRectangle(lon - w / 2, lat - h / 2, lon + w / 2, lat + h / 2)))
        features.append(f)
    layer.dataProvider().addFeatures(features)
    return layer


def test_cloud_pixel_dem_cell_and_storm_box_coincide(plugin, project, mask_path, cloud_pixel, tmp_path):
    from qgis.core import (QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsDistanceArea, QgsGeometry,
                           QgsPointXY, QgsRasterLayer)
    row, col, lon, lat = cloud_pixel
    mars = QgsCoordinateReferenceSystem("IAU_2015:49900")
    mola = QgsCoordinateReferenceSystem.fromWkt(MOLA_WKT)
    assert mola.isValid() and mola.mapUnits() == 0   # QgsUnitTypes.DistanceMeters
    to_mola = QgsCoordinateTransform(mars, mola, project)
    to_mars = QgsCoordinateTransform(mola, mars, project)

    def forward(lo, la):
        p = to_mola.transform(QgsPointXY(lo, la))
        return p.x(), p.y()

    # The transform uses the Mars sphere: x = R * lon (radians), y = R * lat. Earth figures would be off by ~88%.
    assert forward(lon, lat) == pytest.approx((MARS_R * math.radians(lon), MARS_R * math.radians(lat)), abs=1e-3)

    dem_path, dem_transform = _write_dem(tmp_path / "dem.tif", lon, lat, forward)
    # the storm centred 0.7 deg west of the pixel (MDAD boxes are coarse); a second storm elsewhere
    boxes = _storm_boxes([("A", lon - 0.7, lat + 0.3, 3.0, 2.0), ("B", lon + 40.0, lat - 20.0, 3.0, 2.0)])
    mask = QgsRasterLayer(str(mask_path), "cloud mask")
    dem = QgsRasterLayer(str(dem_path), "MOLA DEM")
    try:
        project.addMapLayers([mask, dem, boxes])
        assert mask.crs().authid() == "IAU_2015:49900"
        assert dem.crs().isValid() and dem.crs().ellipsoidAcronym() == "PARAMETER:3396190:3396190"
        assert QgsCoordinateTransform(dem.crs(), mask.crs(), project).isValid()

        # 1. our mask says cloud at the place
        value, ok = mask.dataProvider().sample(QgsPointXY(lon, lat), 1)
        assert ok and value == 1

        # 2. the DEM cell at the same place, found by QGIS through the transform
        here = to_mola.transform(QgsPointXY(lon, lat))
        assert dem.extent().contains(here)
        code, ok = dem.dataProvider().sample(here, 1)
        assert ok
        dem_row, dem_col = divmod(int(code), 10000)
        expected_col, expected_row = ~dem_transform * (here.x(), here.y())
        assert (dem_row, dem_col) == (int(expected_row), int(expected_col))
        # that cell's centre, back on the lon/lat grid, falls in the very same mask pixel, which is cloud
        cx, cy = dem_transform * (dem_col + 0.5, dem_row + 0.5)
        centre = to_mars.transform(QgsPointXY(cx, cy))
        assert _mask_pixel_of(centre.x(), centre.y()) == (row, col)
        assert mask.dataProvider().sample(centre, 1) == (1, True)

        # 3. exactly one storm box holds the place, in lon/lat and in the DEM's metres alike
        point = QgsGeometry.fromPointXY(QgsPointXY(lon, lat))
        holding = [f["storm"] for f in boxes.getFeatures() if f.geometry().contains(point)]
        assert holding == ["A"]
        box = next(f for f in boxes.getFeatures() if f["storm"] == "A").geometry()
        box_in_mola = QgsGeometry(box)
        assert box_in_mola.transform(to_mola) == 0
        assert box_in_mola.contains(QgsGeometry.fromPointXY(QgsPointXY(cx, cy)))
        # the box's size on Mars: 3 degrees of longitude at the equator-ish latitude, measured on the
        # Mars sphere by QGIS (about 178 km, where Earth's figure would give about 334 km)
        distance = QgsDistanceArea()
        distance.setSourceCrs(mars, project.transformContext())
        # QGIS 3.22 measures NaN with the ellipsoid id "IAU_2015:49900": give the sphere's parameters
        assert distance.setEllipsoid(f"PARAMETER:{MARS_R:.0f}:{MARS_R:.0f}")
        width_m = distance.measureLine(QgsPointXY(lon - 2.2, lat + 0.3), QgsPointXY(lon + 0.8, lat + 0.3))
        expected = MARS_R * math.radians(3.0) * math.cos(math.radians(lat + 0.3))
        assert width_m == pytest.approx(expected, rel=2e-3)
    finally:
        project.removeAllMapLayers()
        del mask, dem, boxes
