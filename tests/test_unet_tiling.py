"""U-Net geometry, and the tiling claims: seamless tiles equal one whole-area pass; blend differs
only where its tiles sit off the 16-pixel grid."""
import numpy as np
import pytest

from mars_cloudmask_plugin.crop import Area, pad_area
from mars_cloudmask_plugin.errors import Cancelled, CloudmaskError
from mars_cloudmask_plugin.tiling import plan_tiles, run_tiles, spline_window
from mars_cloudmask_plugin.unet import build_unet, is_valid_input_size, margin, valid_input_size


def test_depth_4_unet_loses_92_pixels_per_side_so_668_gives_484():
    assert margin(4) == 92
    model = build_unet(width=2)
    out = model(np.zeros((1, 668, 668, 3), np.float32))
    assert tuple(out.shape) == (1, 484, 484, 1)


def test_unet_accepts_16k_plus_124_inputs_only():
    assert [s for s in range(188, 700) if is_valid_input_size(s)] == list(range(188, 700, 16))
    assert valid_input_size(600) == 604 and valid_input_size(668) == 668
    model = build_unet(width=2)
    out = model(np.zeros((1, 204, 316, 3), np.float32))     # rectangular inputs work too
    assert tuple(out.shape) == (1, 20, 132, 1)


def test_unet_follows_the_published_architecture():
    model = build_unet(width=8)
    names = [l.__class__.__name__ for l in model.layers]
    assert names[1] == "Rescaling" and model.layers[1].scale == pytest.approx(1 / 255)
    assert "Dropout" not in names
    convs = [l for l in model.layers if l.__class__.__name__ == "Conv2D"]
    assert all(l.padding == "valid" for l in convs)
    assert [l.filters for l in convs[:10:2]] == [8, 16, 32, 64, 128]   # width doubles with depth
    ups = [l for l in model.layers if l.__class__.__name__ == "Conv2DTranspose"]
    assert len(ups) == 4 and all(tuple(l.kernel_size) == (2, 2) for l in ups)
    assert model.layers[-1].activation.__name__ == "sigmoid"
    # conv -> ReLU -> BatchNorm: each conv (ReLU inside) feeds a BatchNormalization
    for conv in convs[:-1]:
        assert conv.activation.__name__ == "relu"
        assert conv._outbound_nodes[0].operation.__class__.__name__ == "BatchNormalization"


@pytest.fixture(scope="module")
def random_unet():
    """Random weights with non-trivial BatchNorm statistics, so every layer matters."""
    import keras
    keras.utils.set_random_seed(3)
    model = build_unet(width=4)
    for layer in model.layers:
        if layer.__class__.__name__ == "BatchNormalization":
            g, b, m, v = layer.get_weights()
            rng = np.random.default_rng(len(layer.name))
            layer.set_weights([g * rng.uniform(0.5, 2, g.shape), rng.normal(0, .3, b.shape),
                               rng.normal(0, .2, m.shape), v * rng.uniform(0.5, 2, v.shape)])
    return lambda batch: model(batch, training=False).numpy()[..., 0]


def image(h=700, w=900, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3)).astype(np.uint8)


def predict_area(predict, rgb, area, mode, tile_size):
    layout = plan_tiles(area.shape, mode, tile_size)
    padded = pad_area(rgb, area, 92, *layout.pad_after)
    return run_tiles(predict, padded, layout), layout


def test_seamless_tiles_equal_one_whole_area_pass(random_unet):
    rgb = image()
    area = Area(150, 450, 20, 720, 0, 0)                        # 300 x 700, not a tile multiple
    tiled, layout = predict_area(random_unet, rgb, area, "seamless", 316)
    whole, whole_layout = predict_area(random_unet, rgb, area, "seamless", None)
    assert len(layout.offsets) > 6 and len(whole_layout.offsets) == 1
    assert np.all(np.array(layout.offsets) % 16 == 0)
    np.testing.assert_allclose(tiled, whole, atol=2e-5)
    assert tiled.std() > 0.01                                   # a real signal, not a constant


def test_seamless_tiles_overlap_only_by_the_alignment_remainder():
    layout = plan_tiles((1092, 3604), "seamless", 668)
    assert layout.out == (484, 484)
    rows = sorted({r for r, _ in layout.offsets})
    assert rows == [0, 480, 960]                                # stride 480: 16-aligned
    cover = np.zeros((1092, 3604), int)
    for r, c in layout.offsets:
        cover[r:r + 484, c:c + 484] += 1
    assert cover.min() == 1                                     # every pixel predicted...
    assert (cover > 1).mean() < 0.02                            # ...once, but for 4-px seams


def test_blend_equals_seamless_where_its_tiles_sit_on_the_16_pixel_grid(random_unet):
    rgb = image()
    area = Area(100, 360, 40, 300, 0, 0)                        # 260 x 260: blend offsets 0, 64, 128
    blend, layout = predict_area(random_unet, rgb, area, "blend", 316)
    assert sorted({r for r, _ in layout.offsets}) == [0, 64, 128]
    seamless, _ = predict_area(random_unet, rgb, area, "seamless", 316)
    np.testing.assert_allclose(blend, seamless, atol=2e-5)


def test_blend_differs_from_seamless_only_by_tile_edge_effects(random_unet):
    rgb = image()
    area = Area(100, 400, 40, 340, 0, 0)                        # 300 x 300: offsets 0, 56, 112, 168
    blend, layout = predict_area(random_unet, rgb, area, "blend", 316)
    assert 56 in {r for r, _ in layout.offsets}
    seamless, _ = predict_area(random_unet, rgb, area, "seamless", 316)
    # the top-left corner is kept from the tile at (0, 0), which is aligned: identical there
    np.testing.assert_allclose(blend[:20, :20], seamless[:20, :20], atol=2e-5)
    diff = np.abs(blend - seamless)
    assert diff.max() > 1e-4                                    # off-grid tiles do differ...
    assert np.corrcoef(blend.ravel(), seamless.ravel())[0, 1] > 0.9   # ...but only slightly


def test_blend_tiles_overlap_by_about_half_and_the_last_is_flush():
    layout = plan_tiles((1092, 3604), "blend", 668)
    cols = sorted({c for _, c in layout.offsets})
    assert cols[0] == 0 and cols[-1] == 3604 - 484
    steps = np.diff(cols)
    assert 0.4 * 484 <= steps.min() and steps.max() <= 0.5 * 484 + 1
    # nearly every pixel gets at least two predictions
    cover = np.zeros(3604, int)
    for c in cols:
        cover[c:c + 484] += 1
    assert (cover >= 2).mean() > 0.85


def test_spline_window_is_zero_at_edges_one_at_centre_and_symmetric():
    w = spline_window(484)
    assert w[0] < 0.001 and w[241] > 0.99 and np.allclose(w, w[::-1])
    assert np.all(np.diff(w[:242]) > 0)


def test_tiles_without_data_are_not_evaluated():
    calls = []
    layout = plan_tiles((300, 700), "seamless", 316)
    data = np.zeros((300, 700), bool)
    data[:50, :50] = True
    predict = lambda b: calls.append(1) or np.ones((1, 132, 132), np.float32)
    prob = run_tiles(predict, np.zeros(layout.padded_shape + (3,), np.uint8), layout, data)
    assert len(calls) == 1 and prob[:50, :50].min() == 1 and prob[200:, 200:].max() == 0


def test_cancel_stops_before_the_next_tile():
    layout = plan_tiles((300, 700), "seamless", 316)
    calls = []
    predict = lambda b: calls.append(1) or np.zeros((1, 132, 132), np.float32)
    with pytest.raises(Cancelled):
        run_tiles(predict, np.zeros(layout.padded_shape + (3,), np.uint8), layout, cancel=lambda: len(calls) >= 2)
    assert len(calls) == 2


def test_invalid_tile_size_and_mode_are_refused_with_a_hint():
    with pytest.raises(CloudmaskError, match="16k \\+ 124.*e.g. 684"):
        plan_tiles((300, 700), "seamless", 670)
    with pytest.raises(CloudmaskError, match="tiling mode 'mosaic'"):
        plan_tiles((300, 700), "mosaic", 668)


def test_latitude_channel_holds_each_rows_latitude_and_keeps_seamless_exact():
    import keras
    keras.utils.set_random_seed(4)
    model = build_unet(width=2, latitude_channel=True)
    predict = lambda batch: model(batch, training=False).numpy()[..., 0]
    rgb = np.random.default_rng(1).integers(0, 256, (1801, 400, 3)).astype(np.uint8)
    area = Area(40, 340, 10, 390, 0, 0)
    outputs = []
    for tile in (316, None):
        layout = plan_tiles(area.shape, "seamless", tile)
        padded = pad_area(rgb, area, 92, *layout.pad_after, latitude=True)
        assert padded.shape[-1] == 4 and padded.dtype == np.float32
        # row 0 of the padded input is image row 40 - 92 = -52, mirrored to row 52: 84.8 N
        assert padded[0, 0, 3] == pytest.approx(90 - 5.2) and padded[92, 0, 3] == pytest.approx(90 - 4.0)
        np.testing.assert_array_equal(padded[..., :3], pad_area(rgb, area, 92, *layout.pad_after))
        outputs.append(run_tiles(predict, padded, layout))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=2e-5)


def test_inference_on_another_keras_backend_gives_the_tensorflow_paths_probabilities(tiny_model_path, monkeypatch):
    """A host without TensorFlow (Keras on JAX, as on the lab's GPU host) takes Keras's own compiled
    step; here both paths run on TensorFlow, so they must agree to float precision."""
    import keras
    from mars_cloudmask_plugin.model import CloudModel, load_model
    model = load_model(tiny_model_path)
    x = np.random.default_rng(3).uniform(0, 255, (2, 316, 316, 3)).astype(np.float32)
    calls = []
    predict_on_batch = keras.Model.predict_on_batch
    monkeypatch.setattr(keras.Model, "predict_on_batch", lambda self, b: calls.append(1) or predict_on_batch(self, b))
    on_tensorflow = CloudModel(model.keras_model, model.metadata, model.path).predict(x)
    assert not calls                                   # TensorFlow keeps its tf.function
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    on_other = CloudModel(model.keras_model, model.metadata, model.path).predict(x)
    assert calls and isinstance(on_other, np.ndarray) and on_other.shape == on_tensorflow.shape == (2, 132, 132)
    np.testing.assert_allclose(on_other, on_tensorflow, atol=1e-5)
