"""The shipped graphical models: modeler/cloudmask_chain.model3 chains polarcrop -> cloudprobability
-> postfilter and must give the `cloudmask` algorithm's mask pixel for pixel;
modeler/frequency_with_topography.model3 draws a cloud frequency map under MOLA contours, on Mars."""
import numpy as np
import pytest


@pytest.fixture
def chain_model(plugin, repo_root):
    from qgis.core import QgsProcessingModelAlgorithm
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(repo_root / "modeler" / "cloudmask_chain.model3"))
    return model


def test_model_chains_polarcrop_cloudprobability_postfilter(chain_model):
    children = {c.childId(): c for c in chain_model.childAlgorithms().values()}
    assert {cid: c.algorithmId() for cid, c in children.items()} == {
        "polarcrop": "marscloudmask:polarcrop", "cloudprobability": "marscloudmask:cloudprobability",
        "postfilter": "marscloudmask:postfilter"}
    assert all(c.algorithm() is not None for c in children.values())     # resolved in the registry
    assert chain_model.dependsOnChildAlgorithms("postfilter") == {"polarcrop", "cloudprobability"}
    bounds = children["cloudprobability"].parameterSources()["LAT_NORTH"][0]
    assert (bounds.outputChildId(), bounds.outputName()) == ("polarcrop", "LAT_NORTH")
    assert [d.name() for d in chain_model.destinationParameterDefinitions()] == ["postfilter:Cloud mask"]


def test_model_mask_equals_cloudmask_algorithm_pixel_for_pixel_and_loads_styled(
        chain_model, run_alg, project, archive, tiny_model_path, tmp_path, read_band, assert_global_grid):
    import processing
    from qgis.core import QgsProcessingContext
    params = {"mdgm": str(archive), "model": str(tiny_model_path), "buffer": 3.0, "tiling": 0,
              "postfilter:Cloud mask": str(tmp_path / "chain.tif")}
    ok, message = chain_model.checkParameterValues(params, QgsProcessingContext())
    assert ok, message
    result = processing.runAndLoadResults(chain_model, params)
    assert result["postfilter:Cloud mask"] == str(tmp_path / "chain.tif")
    direct = run_alg("cloudmask", {"INPUT": str(archive), "MODEL": str(tiny_model_path),
                                   "OUTPUT": str(tmp_path / "direct.tif")})
    assert_global_grid(tmp_path / "chain.tif")
    chained, tags, _, _ = read_band(tmp_path / "chain.tif")
    one_step = read_band(direct["OUTPUT"])[0]
    assert (chained == 1).any() and (chained == 0).any() and (chained == -999).any()
    np.testing.assert_array_equal(chained, one_step)
    assert tags["LS"] == "136.5" and tags["MODEL"] == "tiny-random test"
    # the model's output is loaded like the algorithm's: Mars CRS and the cloud / clear / invalid legend
    [layer] = project.mapLayers().values()
    assert layer.source() == str(tmp_path / "chain.tif") and layer.crs().authid() == "IAU_2015:49900"
    assert [c.label for c in layer.renderer().classes()] == ["cloud", "clear", "invalid"]
    del layer


# The USGS MGS MOLA global mosaic's own CRS: equirectangular on the Mars sphere, metres.
MOLA_CRS = "+proj=eqc +lat_ts=0 +lat_0=0 +lon_0=0 +x_0=0 +y_0=0 +R=3396190 +units=m +no_defs"


def synthetic_dem(path):
    """A 200 x 100 px DEM of 5 km pixels around (0, 0) in the MOLA mosaic's CRS: a cone 4 km high."""
    import rasterio
    from rasterio.transform import from_origin
    y, x = np.mgrid[0:100, 0:200]
    height = (4000 - 60 * np.hypot(x - 100, y - 50)).astype(np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=200, height=100, count=1, dtype="float32",
                       crs=rasterio.crs.CRS.from_proj4(MOLA_CRS), transform=from_origin(-500000, 250000, 5000, 5000)) as dst:
        dst.write(height[None])
    return path


def test_frequency_with_topography_model_draws_frequency_and_mola_contours_on_mars(plugin, project, repo_root,
                                                                                   tmp_path):
    import processing
    from qgis.core import QgsProcessingModelAlgorithm
    from mars_cloudmask_plugin import grid
    from mars_cloudmask_plugin.writers import write_geotiff
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(repo_root / "modeler" / "frequency_with_topography.model3"))
    assert {c.algorithmId() for c in model.childAlgorithms().values()} == {"marscloudmask:cloudfrequency",
                                                                            "gdal:contour"}
    mask = np.full((grid.HEIGHT, grid.WIDTH), -999, np.int16)
    mask[880:920, 1750:1850] = 1
    (tmp_path / "masks").mkdir()
    for day in (1, 2):
        write_geotiff(tmp_path / "masks" / f"P01_day0{day}_zequat_cloudmask.tif", mask,
                      {"SOL": f"P01_day0{day}", "LS": "136", "MARS_YEAR": 28})
    dem = synthetic_dem(tmp_path / "mola.tif")
    result = processing.runAndLoadResults(model, {
        "masks": str(tmp_path / "masks"), "dem": str(dem), "interval": 1000.0, "min_valid": 1,
        "cloudfrequency:Cloud frequency": str(tmp_path / "freq.tif"),
        "contours:MOLA contours": str(tmp_path / "contours.gpkg")})
    assert result["cloudfrequency:Cloud frequency"] == str(tmp_path / "freq.tif")
    layers = list(project.mapLayers().values())
    frequency = next(layer for layer in layers if layer.source() == str(tmp_path / "freq.tif"))
    contours = next(layer for layer in layers if "contours" in layer.source())
    assert frequency.crs().authid() == "IAU_2015:49900" and frequency.renderer().type() == "singlebandpseudocolor"
    assert contours.featureCount() >= 3                                  # 1000, 2000, 3000 m rings
    assert "R=3396190" in contours.crs().toProj()                         # still on the Mars sphere
    del frequency, contours, layers
