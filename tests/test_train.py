"""Training: the masked loss ignores unlabelled pixels; a tiny run lowers its loss, logs, resumes."""
import csv
import json
from dataclasses import replace

import numpy as np
import pytest

from mars_cloudmask_plugin import grid


def loss_and_grad(loss_fn, y_true, y_pred):
    import tensorflow as tf
    p = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        value = loss_fn(tf.constant(y_true), p)
    return float(value), tape.gradient(value, p).numpy()


@pytest.mark.parametrize("name", ["bce", "dice", "bce+dice"])
def test_loss_ignores_pixels_whose_weight_is_zero(name):
    from mars_cloudmask_lab.losses import LOSSES
    rng = np.random.default_rng(0)
    label = (rng.random((2, 8, 8, 1)) > 0.5).astype(np.float32)
    weight = np.ones_like(label)
    weight[:, :3] = 0                                      # rows 0-2 are unlabelled
    pred = rng.uniform(0.05, 0.95, label.shape).astype(np.float32)
    base, grad = loss_and_grad(LOSSES[name], np.concatenate([label, weight], -1), pred)
    # anything at all in the unlabelled pixels, label or prediction, changes nothing
    label2, pred2 = label.copy(), pred.copy()
    label2[:, :3] = 1 - label2[:, :3]
    pred2[:, :3] = rng.uniform(0.05, 0.95, pred2[:, :3].shape)
    other, _ = loss_and_grad(LOSSES[name], np.concatenate([label2, weight], -1), pred2)
    assert other == pytest.approx(base, rel=1e-6)
    assert np.all(grad[:, :3] == 0) and np.abs(grad[:, 3:]).sum() > 0
    # and the published recipe (unlabelled = clear) would have given a different loss
    clear_trained, _ = loss_and_grad(LOSSES[name], np.concatenate([np.where(weight > 0, label, 0), np.ones_like(weight)], -1), pred)
    assert clear_trained != pytest.approx(base, rel=1e-3)


@pytest.fixture(scope="module")
def archive(tmp_path_factory, synthetic_map, jpeg_writer):
    """Three synthetic sols in the archive layout with reference masks (cloud where blue exceeds red
    by 20, the western third unlabelled), made once for this module: no test changes them."""
    from mars_cloudmask_plugin.writers import write_netcdf
    root = tmp_path_factory.mktemp("train_archive")
    mdgm_dir, ref_dir = root / "P01", root / "ref"
    ref_dir.mkdir()
    for day in (1, 2, 3):
        rgb = synthetic_map(seed=day)
        jpeg_writer(mdgm_dir / f"P01_day{day:02d}_zequat.jpg", rgb)
        with open(mdgm_dir / "P01_ls.txt", "a") as table:
            table.write(f"P01_day{day:02d}       28       135.000\n")
        ref = np.where(rgb[..., 2].astype(int) - rgb[..., 0] > 20, 1, 0).astype(np.int16)
        ref[:, :1200] = grid.NODATA
        write_netcdf(ref_dir / f"cloudmask_P01day{day:02d}.ncdf", ref)
    return mdgm_dir, ref_dir


@pytest.fixture(scope="module")
def stage1(archive, tmp_path_factory):
    """(config fields, model path) of a first stage trained from random weights on day 01."""
    from mars_cloudmask_lab.train import TrainConfig, train
    mdgm_dir, ref_dir = archive
    base = dict(mdgm_dir=str(mdgm_dir), reference_dir=str(ref_dir), train_days=["P01_day01"], val_days=[],
                width=2, patch=220, batch=2, steps_per_epoch=3, epochs=1, learning_rate=0.01, seed=5, recalibration_batches=2)
    return base, train(TrainConfig(**base), tmp_path_factory.mktemp("stage1"), log=lambda line: None)


def interrupt_after_first_epoch(train, config, run):
    """Start a run and kill it once its first epoch is logged and checkpointed."""
    def stop_after_first_epoch(line):
        if line.startswith("epoch=1 "):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(config, run, log=stop_after_first_epoch)


def test_tiny_training_run_lowers_loss_logs_metrics_and_resumes(tmp_path, archive):
    from mars_cloudmask_plugin.model import read_metadata
    from mars_cloudmask_lab.train import TrainConfig, train
    mdgm_dir, ref_dir = archive
    config = TrainConfig(mdgm_dir=str(mdgm_dir), reference_dir=str(ref_dir), train_days=["P01_day01", "P01_day02"],
                         val_days=["P01_day03"], width=2, patch=220, batch=2, steps_per_epoch=6, epochs=3,
                         learning_rate=0.01, seed=5, recalibration_batches=2)
    run = tmp_path / "run"

    interrupt_after_first_epoch(train, config, run)
    assert (run / "last.keras").exists() and not (run / "final.keras").exists()
    final = train(config, run, resume=True, log=lambda line: None)
    rows = list(csv.DictReader(open(run / "log.csv")))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]               # resumed at epoch 2
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert {"val_iou", "val_f1", "iou_P01_day03"} <= set(rows[0])
    assert json.loads((run / "config.json").read_text())["seed"] == 5
    meta = read_metadata(final)
    assert meta["training_days"] == ["P01_day01", "P01_day02"] and meta["validation"]["days"] == ["P01_day03"]
    assert 0 <= meta["validation"]["pooled"]["iou"] <= 1 and meta["width"] == 2


def test_augmentation_flips_input_and_target_together():
    from mars_cloudmask_lab.train import augment
    codes = np.arange(25, dtype=np.float32).reshape(5, 5)       # each pixel knows where it was
    x, y = np.repeat(codes[..., None], 3, -1), np.stack([codes, codes], -1)
    rng = np.random.default_rng(0)
    corners = set()
    for _ in range(40):
        xa, ya = augment(x, y, rng, flips=True, jitter=0)
        np.testing.assert_array_equal(xa[..., 0], ya[..., 0])
        corners.add(int(xa[0, 0, 0]))
    assert corners == {0, 4, 20, 24}       # identity, left-right, up-down, 180-degree rotation


def test_season_jitter_turns_a_patchs_season_by_at_most_its_degrees_and_keeps_it_on_the_circle():
    from mars_cloudmask_lab.train import TrainConfig, augment, season_augmentation
    from mars_cloudmask_plugin.inputs import build_channels
    names = ["red", "green", "blue", "season_sin", "season_cos"]
    config = TrainConfig(mdgm_dir="m", reference_dir="r", train_days=[], val_days=[], inputs=names, season_jitter=8.0)
    season = season_augmentation(config)
    assert season == ((3, 4), 8.0)
    x = build_channels(names, np.full((4, 4, 3), 100, np.uint8), np.zeros(4, np.float32), ls=135.0)
    y = np.zeros((4, 4, 2), np.float32)
    rng = np.random.default_rng(0)
    seen = []
    for _ in range(200):
        xa, _ = augment(x, y, rng, flips=False, jitter=0, season=season)
        assert np.ptp(xa[..., 3]) == 0 and np.ptp(xa[..., 4]) == 0          # one season per patch
        np.testing.assert_allclose(xa[..., 3] ** 2 + xa[..., 4] ** 2, 1, atol=1e-5)
        np.testing.assert_array_equal(xa[..., :3], x[..., :3])
        seen.append(np.degrees(np.arctan2(xa[0, 0, 3], xa[0, 0, 4])))
    assert 127 <= min(seen) < 129 and 141 < max(seen) <= 143                   # Ls 135 +- 8
    # without season inputs or without the setting, no turn (and no random draw: older runs replay)
    assert season_augmentation(TrainConfig(mdgm_dir="m", reference_dir="r", train_days=[], val_days=[],
                                           inputs=names)) is None
    assert season_augmentation(TrainConfig(mdgm_dir="m", reference_dir="r", train_days=[], val_days=[],
                                           inputs=names[:3], season_jitter=8.0)) is None
    # the weak dust-season patches can be given any season instead
    blind = TrainConfig(mdgm_dir="m", reference_dir="r", train_days=[], val_days=[], inputs=names, season_jitter=8.0,
                        weak_season_jitter=180.0)
    assert (season_augmentation(blind), season_augmentation(blind, weak=True)) == (((3, 4), 8.0), ((3, 4), 180.0))
    assert season_augmentation(config, weak=True) == ((3, 4), 8.0)


def test_weak_season_jitter_gives_the_clear_only_patches_any_season_and_the_others_theirs():
    from mars_cloudmask_lab.train import TrainConfig, TrainingSol, make_batch
    from mars_cloudmask_plugin.inputs import build_channels
    names = ["red", "green", "blue", "season_sin", "season_cos"]

    def sol(ls, clear_only):
        padded = build_channels(names, np.full((8, 8, 3), 100, np.uint8), np.zeros(8, np.float32), ls=ls)
        return TrainingSol(f"Ls{ls}", padded, np.zeros((4, 4), np.float32), np.ones((4, 4), np.float32), clear_only)

    def seasons(weak_share):
        config = TrainConfig(mdgm_dir="m", reference_dir="r", train_days=[], val_days=[], inputs=names, patch=8,
                             batch=50, season_jitter=8.0, weak_season_jitter=180.0, weak_share=weak_share)
        x, _ = make_batch([sol(135.0, False)], config, 2, np.random.default_rng(0), weak=[sol(220.0, True)])
        return np.degrees(np.arctan2(x[:, 0, 0, 3], x[:, 0, 0, 4])) % 360

    labelled = seasons(0.0)
    assert labelled.min() >= 127 and labelled.max() <= 143
    weak = seasons(1.0)
    assert np.ptp(weak) > 270                                   # anywhere on the circle


def test_batchnorm_recalibration_makes_inference_match_the_calibration_batch():
    import keras
    from mars_cloudmask_lab.train import recalibrate_batchnorm
    from mars_cloudmask_plugin.unet import build_unet
    keras.utils.set_random_seed(0)
    model = build_unet(width=2)
    x = np.random.default_rng(0).uniform(0, 255, (2, 220, 220, 3)).astype(np.float32)
    before = np.abs(model(x, training=False).numpy() - model(x, training=True).numpy()).max()
    recalibrate_batchnorm(model, [x])          # one batch: moving statistics = its statistics
    after = np.abs(model(x, training=False).numpy() - model(x, training=True).numpy()).max()
    assert before > 1e-3 and after < 1e-4
    assert all(l.momentum == 0.99 for l in model.layers if isinstance(l, keras.layers.BatchNormalization))


def test_exported_model_carries_no_optimizer_state(tmp_path):
    import h5py
    import keras
    import zipfile
    from mars_cloudmask_lab.losses import masked_bce
    from mars_cloudmask_plugin.model import model_metadata, save_model
    from mars_cloudmask_plugin.unet import build_unet
    km = build_unet(width=2)
    km.compile(optimizer="adam", loss=masked_bce)
    km.train_on_batch(np.zeros((1, 188, 188, 3), np.float32), np.zeros((1, 4, 4, 2), np.float32))
    path = save_model(km, tmp_path / "m.keras", model_metadata(km, name="m", version="1", width=2),
                      include_optimizer=False)
    with zipfile.ZipFile(path) as zf:
        zf.extract("model.weights.h5", tmp_path)
    with h5py.File(tmp_path / "model.weights.h5") as h5:
        assert "optimizer" not in h5 or len(h5["optimizer"].keys()) == 0


def test_fine_tuning_starts_from_a_model_and_keeps_frozen_batchnorm_statistics(tmp_path, stage1):
    import keras
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_lab.train import TrainConfig, train
    base, stage1 = stage1
    stage2 = TrainConfig(**{**base, "init_from": str(stage1), "freeze_batchnorm": True, "epochs": 2})
    run = tmp_path / "stage2"

    interrupt_after_first_epoch(train, stage2, run)
    final = train(stage2, run, resume=True, log=lambda line: None)       # resuming keeps BatchNorm frozen

    def by_kind(path):
        model = load_model(path).keras_model
        norms = [w for l in model.layers if isinstance(l, keras.layers.BatchNormalization) for w in l.get_weights()]
        convs = [w for l in model.layers if isinstance(l, keras.layers.Conv2D) for w in l.get_weights()]
        return norms, convs

    (norms1, convs1), (norms2, convs2) = by_kind(stage1), by_kind(final)
    assert all(np.array_equal(a, b) for a, b in zip(norms1, norms2))     # statistics, scale and shift untouched
    assert any(not np.array_equal(a, b) for a, b in zip(convs1, convs2))  # the convolutions learned


def test_fine_tuning_refuses_a_model_of_another_width(tmp_path, stage1):
    from mars_cloudmask_plugin.errors import CloudmaskError
    from mars_cloudmask_lab.train import TrainConfig, train
    base, stage1 = stage1
    with pytest.raises(CloudmaskError, match="does not match"):
        train(TrainConfig(**{**base, "width": 4, "init_from": str(stage1)}), tmp_path / "stage2", log=lambda line: None)


def test_threshold_is_chosen_on_the_training_sols_and_stored_in_the_model(tmp_path, archive):
    from mars_cloudmask_plugin.model import read_metadata
    from mars_cloudmask_lab.train import THRESHOLDS, TrainConfig, train
    mdgm_dir, ref_dir = archive
    config = TrainConfig(mdgm_dir=str(mdgm_dir), reference_dir=str(ref_dir), train_days=["P01_day01", "P01_day02"],
                         val_days=["P01_day03"], width=2, patch=220, batch=2, steps_per_epoch=2, epochs=1,
                         seed=5, choose_threshold=True, recalibration_batches=2)
    final = train(config, tmp_path / "run", log=lambda line: None)
    sweep = list(csv.DictReader(open(tmp_path / "run" / "threshold.csv")))
    assert [float(r["threshold"]) for r in sweep] == list(THRESHOLDS)
    best = max(sweep, key=lambda r: float(r["iou"]))
    meta = read_metadata(final)
    assert meta["threshold"] == float(best["threshold"])
    assert meta["threshold"] != config.threshold     # so the test tells a chosen threshold from the default
    assert "training sols" in meta["threshold_choice"]


def test_weak_labels_teach_only_the_pixels_another_model_calls_clear():
    from mars_cloudmask_plugin.mdgm import Mdgm
    from mars_cloudmask_lab.train import labels_for
    rgb = np.full((1, 4, 3), 120, np.uint8)
    rgb[0, 3] = 0                                                   # no data
    other_model = np.array([[1, 0, grid.NODATA, 0]], np.int16)
    label, weight = labels_for(Mdgm(None, rgb), other_model, clear_only=True)
    assert weight.tolist() == [[0, 1, 0, 0]]                        # its cloud, -999 and no data ignored
    assert label.tolist() == [[1, 0, 0, 0]]
    _, full_weight = labels_for(Mdgm(None, rgb), other_model)      # a reference mask: both classes
    assert full_weight.tolist() == [[1, 1, 0, 0]]


def test_consensus_labels_teach_only_the_pixels_where_two_models_agree():
    from mars_cloudmask_plugin.mdgm import Mdgm
    from mars_cloudmask_lab.train import labels_for
    rgb = np.full((1, 6, 3), 120, np.uint8)
    rgb[0, 5] = 0                                                   # no data
    published = np.array([[1, 0, 1, 0, grid.NODATA, 1]], np.int16)
    ours = np.array([[1, 0, 0, 1, 1, 1]], np.int16)
    label, weight = labels_for(Mdgm(None, rgb), published, agree_with=ours)
    assert weight.tolist() == [[1, 1, 0, 0, 0, 0]]                  # cloud and clear where both agree, nothing else
    assert label.tolist()[0][:2] == [1, 0]
    ours[0, 0] = grid.NODATA                                        # outside the judge's prediction area
    assert labels_for(Mdgm(None, rgb), published, agree_with=ours)[1].tolist() == [[0, 1, 0, 0, 0, 0]]


def test_consensus_sols_are_judged_by_the_model_a_run_starts_from(tmp_path, archive):
    from mars_cloudmask_plugin.archive import reference_path_for
    from mars_cloudmask_plugin.errors import CloudmaskError
    from mars_cloudmask_plugin.model import read_metadata
    from mars_cloudmask_lab.train import TrainConfig, train
    mdgm_dir, ref_dir = archive
    start = _tiny_single_map_model(tmp_path)
    pair = [str(mdgm_dir / "P01_day03_zequat.jpg"), str(reference_path_for("P01_day03", ref_dir))]
    config = TrainConfig(mdgm_dir=str(mdgm_dir), reference_dir=str(ref_dir), train_days=["P01_day01"], val_days=[],
                         width=2, patch=220, batch=2, steps_per_epoch=1, epochs=1, seed=5, recalibration_batches=1,
                         latitude_channel=True, init_from=str(start.path), consensus_sols=[pair], weak_share=0.5)
    lines = []
    final = train(config, tmp_path / "run", log=lines.append)
    assert read_metadata(final)["consensus_label_sols"] == ["P01_day03"]
    assert any("1 consensus-label sols (single test and their masks agree on" in line for line in lines)
    with pytest.raises(CloudmaskError, match="set init_from"):
        train(TrainConfig(**{**config.__dict__, "init_from": ""}), tmp_path / "run2", log=lambda line: None)


def test_weak_label_sols_fill_their_share_of_the_patches_and_are_named_in_the_model(tmp_path, archive):
    from mars_cloudmask_plugin.archive import reference_path_for
    from mars_cloudmask_plugin.model import read_metadata
    from mars_cloudmask_lab.train import TrainConfig, load_training_sol, load_weak_sol, make_batch, train
    mdgm_dir, ref_dir = archive
    weak_pair = [str(mdgm_dir / "P01_day03_zequat.jpg"), str(reference_path_for("P01_day03", ref_dir))]
    config = TrainConfig(mdgm_dir=str(mdgm_dir), reference_dir=str(ref_dir), train_days=["P01_day01"], val_days=[],
                         width=2, patch=220, batch=8, steps_per_epoch=1, epochs=1, seed=5, recalibration_batches=2,
                         weak_sols=[weak_pair], weak_share=1.0)
    sols = [load_training_sol(config, "P01_day01", 92)]
    weak = [load_weak_sol(config, *weak_pair, 92)]
    _, y = make_batch(sols, config, 92, np.random.default_rng(0), weak)
    scored_cloud = y[..., 0] * y[..., 1]
    assert scored_cloud.max() == 0 and y[..., 1].max() == 1         # every patch weak: only clear pixels scored
    _, y = make_batch(sols, TrainConfig(**{**config.__dict__, "weak_share": 0.0}), 92, np.random.default_rng(0), weak)
    assert (y[..., 0] * y[..., 1]).max() == 1                       # no weak patch: reference clouds scored again
    final = train(config, tmp_path / "run", log=lambda line: None)
    assert read_metadata(final)["weak_label_sols"] == ["P01_day03"]


def test_committed_training_configs_load_and_never_train_on_the_validation_sols(repo_root):
    from mars_cloudmask_lab.commands.train import read_recipe
    from mars_cloudmask_lab.train import TrainConfig, member_configs, stage_configs
    from mars_cloudmask_plugin.model import read_metadata
    from mars_cloudmask_plugin.unet import is_valid_input_size
    configs = sorted((repo_root / "mars_cloudmask_lab" / "recipes").glob("*.json"))
    assert configs
    recipes = [TrainConfig(**read_recipe(path)) for path in configs]
    for path, config in [(path, c) for path, recipe in zip(configs, recipes) for c in [recipe, *member_configs(recipe)]]:
        assert all(stage.train_days == config.train_days for stage in stage_configs(config)), path.name
        assert is_valid_input_size(config.patch, config.depth), path.name
        assert not set(config.train_days) & set(config.val_days), path.name
        for stage in [config] + stage_configs(config):                   # consensus labels are set per stage
            weak = " ".join(mdgm for mdgm, _ in stage.weak_sols + stage.consensus_sols)
            assert not any(day in weak for day in config.val_days), path.name
        assert (config.weak_share > 0) == bool(config.weak_sols or config.consensus_sols), path.name
        start = repo_root / config.init_from
        if config.init_from and config.val_days and start.exists():    # runs/ files exist only where made
            # the shipped models are trained on days 01-18: a run validated on 15-18 must not start from them
            assert not set(read_metadata(start)["training_days"]) & set(config.val_days), path.name


def _tiny_single_map_model(tmp_path):
    import keras
    from mars_cloudmask_plugin.inputs import LEGACY_INPUTS
    from mars_cloudmask_plugin.model import load_model, model_metadata, save_model
    from mars_cloudmask_plugin.unet import build_unet
    keras.utils.set_random_seed(4)
    km = build_unet(width=2, inputs=LEGACY_INPUTS["rgb+latitude"])
    meta = model_metadata(km, name="single", version="test", width=2, inputs=LEGACY_INPUTS["rgb+latitude"])
    return load_model(save_model(km, tmp_path / "single.keras", meta, include_optimizer=False))


def test_growing_the_clearsky_inputs_starts_from_exactly_the_single_map_predictions(tmp_path):
    from mars_cloudmask_plugin.inputs import EXCESS_INPUTS
    from mars_cloudmask_plugin.unet import build_unet
    from mars_cloudmask_lab.train import transfer_weights
    source = _tiny_single_map_model(tmp_path)
    grown = build_unet(width=2, inputs=EXCESS_INPUTS)
    transfer_weights(source, grown, EXCESS_INPUTS)
    x = np.random.default_rng(0).uniform(0, 255, (1, 188, 188, len(EXCESS_INPUTS))).astype(np.float32)
    own = [EXCESS_INPUTS.index(name) for name in source.channels]
    expected = source.keras_model.predict(x[..., own], verbose=0)
    assert np.array_equal(grown.predict(x, verbose=0), expected)


def test_growing_a_colour_head_keeps_every_unet_layer_and_starts_the_head_fresh(tmp_path):
    from mars_cloudmask_plugin.inputs import EXCESS_INPUTS
    from mars_cloudmask_plugin.unet import build_unet
    from mars_cloudmask_lab.train import FIRST_CONV, OUTPUT_LAYER, transfer_weights
    source = _tiny_single_map_model(tmp_path)
    grown = build_unet(width=2, inputs=EXCESS_INPUTS, colour_head={"boxes": [5], "units": [4]})
    transfer_weights(source, grown, EXCESS_INPUTS)
    old = {layer.name: layer.get_weights() for layer in source.keras_model.layers}
    shared = [layer for layer in grown.layers if layer.get_weights() and layer.name in old
              and layer.name not in (FIRST_CONV, OUTPUT_LAYER)]
    assert len(shared) > 20
    assert all(all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), old[layer.name])) for layer in shared)
    first = grown.get_layer(FIRST_CONV).get_weights()[0]
    assert np.array_equal(first[:, :, :4], old[FIRST_CONV][0]) and not first[:, :, 4:].any()
    assert grown.get_layer("colour_head1").get_weights()[0].shape == (1, 1, 2 + 2 * len(EXCESS_INPUTS), 4)


def test_growing_from_a_single_map_model_with_its_own_head_starts_the_reference_head_fresh(tmp_path):
    """The single-map head sees other features than the reference-aware one; its layers that happen to
    have the same shape (the hidden layer, the output) must not start the new head."""
    import keras
    from mars_cloudmask_plugin.inputs import EXCESS_INPUTS, LEGACY_INPUTS
    from mars_cloudmask_plugin.model import load_model, model_metadata, save_model
    from mars_cloudmask_plugin.unet import build_unet, head_layers
    from mars_cloudmask_lab.train import transfer_weights
    head = {"boxes": [5], "units": [4, 3]}
    keras.utils.set_random_seed(5)
    km = build_unet(width=2, inputs=LEGACY_INPUTS["rgb+latitude"], colour_head=head)
    meta = model_metadata(km, name="single", version="head", width=2, inputs=LEGACY_INPUTS["rgb+latitude"])
    source = load_model(save_model(km, tmp_path / "single_head.keras", meta, include_optimizer=False))
    keras.utils.set_random_seed(6)
    grown = build_unet(width=2, inputs=EXCESS_INPUTS, colour_head=head)
    fresh = [layer.get_weights() for layer in head_layers(grown)]
    transfer_weights(source, grown, EXCESS_INPUTS)
    after = [layer.get_weights() for layer in head_layers(grown)]
    assert all(np.array_equal(a, b) for old, new in zip(fresh, after) for a, b in zip(old, new))
    assert head_layers(source.keras_model)[1].get_weights()[0].shape == head_layers(grown)[1].get_weights()[0].shape
    assert np.array_equal(grown.get_layer("down1_conv1").get_weights()[0],
                          source.keras_model.get_layer("down1_conv1").get_weights()[0])


def test_growing_refuses_a_source_whose_inputs_the_run_lacks(tmp_path):
    from mars_cloudmask_plugin.errors import CloudmaskError
    from mars_cloudmask_plugin.unet import build_unet
    from mars_cloudmask_lab.train import transfer_weights
    source = _tiny_single_map_model(tmp_path)
    with pytest.raises(CloudmaskError, match="latitude"):
        transfer_weights(source, build_unet(width=2), ("red", "green", "blue"))


def test_a_recipe_extends_another_and_runs_its_more_stages_after_the_inherited_ones(tmp_path):
    from mars_cloudmask_lab.commands.train import read_recipe
    (tmp_path / "base.json").write_text(json.dumps({"width": 8, "seed": 1, "stages": [{"epochs": 3}, {"epochs": 4}]}))
    (tmp_path / "grown.json").write_text(json.dumps({"extends": "base.json", "seed": 2,
                                                     "more_stages": [{"epochs": 0, "head_patches": 10}]}))
    recipe = read_recipe(tmp_path / "grown.json")
    assert recipe["width"] == 8 and recipe["seed"] == 2
    assert recipe["stages"] == [{"epochs": 3}, {"epochs": 4}, {"epochs": 0, "head_patches": 10}]
    assert "more_stages" not in recipe and read_recipe(tmp_path / "base.json")["stages"] == [{"epochs": 3}, {"epochs": 4}]


SHIPPED_REFERENCE_RECIPE = "clearsky_w8_consensus.json"   # mars_cloudmask_unet_clearsky 0.9.0-w8
SHIPPED_SINGLE_RECIPE = "single_w8.json"                  # mars_cloudmask_unet_w8 0.5.0-w8
WHAT_TRAINING_SEES = ("width", "depth", "patch", "batch", "loss", "flips", "colour_jitter", "season_jitter",
                      "weak_season_jitter", "buffer", "epochs", "steps_per_epoch", "learning_rate", "seed",
                      "freeze_batchnorm", "recalibration_batches", "bn_momentum", "choose_threshold", "weak_sols",
                      "weak_share", "consensus_sols", "train_days", "val_days", "min_labelled", "inputs",
                      "clearsky_percentile", "clearsky_min_sols", "colour_head", "head_patches",
                      "head_pixels_per_patch", "head_epochs", "head_dropout", "head_weight_decay")


def _stages(repo_root, recipe):
    from mars_cloudmask_lab.commands.train import read_recipe
    from mars_cloudmask_lab.train import TrainConfig, stage_configs
    return stage_configs(TrainConfig(**read_recipe(repo_root / "mars_cloudmask_lab" / "recipes" / recipe)))


def _seen(stage):
    from mars_cloudmask_lab.train import season_augmentation
    seen = {key: getattr(stage, key) for key in WHAT_TRAINING_SEES}
    if season_augmentation(stage) is season_augmentation(stage, weak=True) is None:
        seen["season_jitter"] = seen["weak_season_jitter"] = 0.0    # they turn season inputs only
    return seen


def test_the_single_map_recipe_trains_the_unet_then_fits_a_head_on_the_map_and_latitude(repo_root):
    from mars_cloudmask_plugin.inputs import LEGACY_INPUTS
    stages = _stages(repo_root, SHIPPED_SINGLE_RECIPE)
    unet = _stages(repo_root, "base_w8.json")
    assert [_seen(s) for s in stages[:-1]] == [_seen(s) for s in unet]
    assert not any(s.colour_head for s in unet) and not stages[0].init_from
    head = stages[-1]
    assert tuple(head.inputs) == LEGACY_INPUTS["rgb+latitude"] and head.colour_head and head.head_patches
    assert head.epochs == 0 and head.freeze_batchnorm and head.consensus_sols          # the U-Net is not retrained
    assert (head.name, head.version) != (unet[-1].name, unet[-1].version)


def test_the_two_shipped_recipes_share_the_unet_stages_and_each_fits_its_own_head(repo_root):
    from mars_cloudmask_plugin.inputs import needs_clearsky
    unet = _stages(repo_root, "base_w8.json")
    reference = _stages(repo_root, SHIPPED_REFERENCE_RECIPE)
    single = _stages(repo_root, SHIPPED_SINGLE_RECIPE)
    assert [_seen(s) for s in reference[:-1]] == [_seen(s) for s in single[:-1]] == [_seen(s) for s in unet]
    assert needs_clearsky(reference[-1].inputs) and reference[-1].colour_head and reference[-1].head_patches
    assert not needs_clearsky(single[-1].inputs) and single[-1].colour_head != {}
    assert (reference[-1].name, single[-1].name) == ("mars_cloudmask_unet_clearsky", "mars_cloudmask_unet_w8")


def test_the_shipped_reference_recipes_consensus_labels_come_from_other_seasons_than_the_dust_and_p01(repo_root):
    """The head sees latitude; what keeps it from tying itself to P01's season is pseudo-labels of the
    14 subphases outside the dust season (where the weak clear-only labels are), one sol each, day05:
    the sol the seasons table leaves out."""
    from mars_cloudmask_lab.commands.train import read_recipe
    from mars_cloudmask_lab.train import TrainConfig, stage_configs
    from mars_cloudmask_lab.seasons import DUST_SEASON
    from mars_cloudmask_plugin.archive import sol_name
    head = stage_configs(TrainConfig(**read_recipe(repo_root / "mars_cloudmask_lab" / "recipes" /
                                                   SHIPPED_REFERENCE_RECIPE)))[-1]
    names = [sol_name(mdgm) for mdgm, _ in head.consensus_sols]
    subphases = {name.split("_")[0] for name in names}
    assert "latitude" in head.colour_head.get("inputs", ["latitude"])
    assert len(names) == len(subphases) == 14 and not subphases & (DUST_SEASON | {"P01"})
    assert all(name.endswith("_day05") for name in names)


def test_the_shipped_reference_file_is_its_recipes_last_stage_on_the_previous_single_map_unet(repo_root):
    from mars_cloudmask_lab.commands.train import read_recipe
    recipes = repo_root / "mars_cloudmask_lab" / "recipes"
    whole = read_recipe(recipes / SHIPPED_REFERENCE_RECIPE)
    grown = read_recipe(recipes / "clearsky_w8_consensus_grown.json")
    assert grown["stages"] == whole["stages"][-1:] and grown["init_from"] == "runs/unet_w8_0118.keras"
    assert "git show 224fc6f:models/mars_cloudmask_unet.keras > runs/unet_w8_0118.keras" in " ".join(grown["notes"])
    assert {k: v for k, v in grown.items() if k not in ("stages", "init_from", "notes", "train_days", "val_days")} == \
        {k: v for k, v in whole.items() if k not in ("stages", "notes", "train_days", "val_days")}


def test_the_shipped_single_map_file_is_its_recipes_last_stage_on_the_previous_single_map_unet(repo_root):
    from mars_cloudmask_lab.commands.train import read_recipe
    recipes = repo_root / "mars_cloudmask_lab" / "recipes"
    whole = read_recipe(recipes / SHIPPED_SINGLE_RECIPE)
    grown = read_recipe(recipes / "single_w8_grown.json")
    assert grown["stages"] == whole["stages"][-1:] and grown["val_days"] == []
    assert len(grown["train_days"]) == 18 and grown["init_from"] == "runs/unet_w8_0118.keras"
    assert "git show 224fc6f:models/mars_cloudmask_unet.keras > runs/unet_w8_0118.keras" in " ".join(grown["notes"])


def test_the_previous_reference_recipe_grows_the_unet_stages_of_the_single_map_recipe(repo_root):
    unet = _stages(repo_root, "base_w8.json")
    previous = _stages(repo_root, "clearsky_w8.json")          # 0.6.0-w8: its head on the U-Net alone
    assert [_seen(s) for s in previous[:-1]] == [_seen(s) for s in unet]
    assert _seen(_stages(repo_root, SHIPPED_SINGLE_RECIPE)[2]) == _seen(unet[-1])


def test_a_staged_run_without_validation_sols_stores_its_fit_on_the_training_sols(tmp_path, archive):
    from mars_cloudmask_plugin.model import read_metadata
    from mars_cloudmask_lab.train import TrainConfig, train_stages
    mdgm_dir, ref_dir = archive
    config = TrainConfig(mdgm_dir=str(mdgm_dir), reference_dir=str(ref_dir), train_days=["P01_day01", "P01_day02"],
                         val_days=[], width=2, patch=220, batch=2, steps_per_epoch=2, epochs=1, learning_rate=0.01,
                         seed=5, recalibration_batches=2, stages=[{"epochs": 1}])
    meta = read_metadata(train_stages(config, tmp_path / "run", log=lambda line: None))
    assert "validation" not in meta
    fit = meta["training_fit"]
    assert fit["days"] == ["P01_day01", "P01_day02"] and set(fit["per_sol"]) == {"P01_day01", "P01_day02"}
    assert 0 <= fit["pooled"]["iou"] <= 1 and "not a validation" in fit["note"]


def test_the_best_threshold_is_the_one_with_the_highest_pooled_iou():
    from mars_cloudmask_lab.metrics import Confusion
    from mars_cloudmask_lab.train import best_threshold_index
    totals = [Confusion(tp=5, fp=5, fn=0), Confusion(tp=8, fp=1, fn=1), Confusion(tp=6, fp=0, fn=4)]
    assert best_threshold_index(totals) == 1


def test_a_summary_over_an_explicit_empty_list_of_days_names_no_days(monkeypatch):
    from mars_cloudmask_lab import train
    from mars_cloudmask_lab.metrics import Confusion
    monkeypatch.setattr(train, "evaluate_sols", lambda *args, **kwargs: ({}, Confusion(tp=1)))
    config = train.TrainConfig(mdgm_dir="m", reference_dir="r", train_days=["P01_day01"], val_days=["P01_day15"])
    assert train.validation_summary(None, [], config, days=[])["days"] == []
    assert train.validation_summary(None, [], config)["days"] == ["P01_day15"]


def test_the_weight_comparison_recipe_differs_from_the_0_8_0_reference_recipe_in_the_heads_label_share_only(
        repo_root):
    """The card's "Consensus labels given more weight": 30% against 0.8.0-w8's 40%, nothing else."""
    previous = _stages(repo_root, "clearsky_w8_consensus_no_season.json")
    s30 = _stages(repo_root, "clearsky_w8_consensus_s30.json")
    assert [_seen(s) for s in s30[:-1]] == [_seen(s) for s in previous[:-1]]
    assert (previous[-1].weak_share, s30[-1].weak_share) == (0.4, 0.3)
    assert {**_seen(s30[-1]), "weak_share": 0.4} == _seen(previous[-1])


def test_the_shipped_reference_recipe_sees_the_season_jittered_and_its_comparisons_differ_in_that_only(repo_root):
    """The card's "The season as an input": 0.8.0-w8's recipe without the season inputs, the one with
    the exact Ls, and the one whose weak patches keep their season each differ from the shipped
    recipe's head in that alone."""
    shipped = _stages(repo_root, SHIPPED_REFERENCE_RECIPE)
    head = shipped[-1]
    assert head.inputs[-2:] == ["season_sin", "season_cos"]
    assert (head.season_jitter, head.weak_season_jitter) == (8.0, 180.0)
    assert not any("season_sin" in s.inputs for s in shipped[:-1])       # the U-Net stages never see it
    no_season = _stages(repo_root, "clearsky_w8_consensus_no_season.json")
    exact = _stages(repo_root, "clearsky_w8_consensus_season.json")
    weak_season = _stages(repo_root, "clearsky_w8_consensus_weak_season.json")
    assert all([_seen(s) for s in other[:-1]] == [_seen(s) for s in shipped[:-1]]
               for other in (no_season, exact, weak_season))
    jitters = {"season_jitter": 8.0, "weak_season_jitter": 180.0}
    assert {**_seen(no_season[-1]), "inputs": head.inputs, **jitters} == _seen(head)
    assert {**_seen(exact[-1]), **jitters} == _seen(head)
    assert {**_seen(weak_season[-1]), "weak_season_jitter": 180.0} == _seen(head)
    assert weak_season[-1].weak_season_jitter == 0.0 and exact[-1].season_jitter == 0.0


def test_an_ensemble_recipe_trains_each_member_then_joins_them_with_a_threshold_from_the_training_sols(
        tmp_path, archive):
    from mars_cloudmask_lab.train import TrainConfig, evaluate_sols, train
    from mars_cloudmask_plugin.model import load_model, read_metadata
    mdgm_dir, ref_dir = archive
    tiny = dict(patch=220, batch=2, steps_per_epoch=2, epochs=1, recalibration_batches=2)
    config = TrainConfig(mdgm_dir=str(mdgm_dir), reference_dir=str(ref_dir), train_days=["P01_day01", "P01_day02"],
                         val_days=["P01_day03"], name="tiny-ensemble", version="test",
                         members=[dict(tiny, width=2, seed=5), dict(tiny, width=4, seed=5, seed_offset=1)])
    lines = []
    out = train(config, tmp_path / "run", log=lines.append)
    assert out == tmp_path / "run" / "final.keras" and [line for line in lines if line.startswith("member")] == [
        "member 1 of 2: mars_cloudmask_unet dev, width 2", "member 2 of 2: mars_cloudmask_unet dev, width 4"]
    meta = read_metadata(out)
    sweep = list(csv.DictReader(open(tmp_path / "run" / "threshold.csv")))
    assert meta["threshold"] == float(max(sweep, key=lambda r: float(r["iou"]))["threshold"])
    assert meta["validation"]["days"] == ["P01_day03"] and meta["training_days"] == ["P01_day01", "P01_day02"]
    assert [m["width"] for m in meta["members"]] == [2, 4] and meta["width"] == 6
    assert read_metadata(tmp_path / "run" / "member2" / "final.keras")["seed"] == 6          # seed + seed_offset
    _, pooled = evaluate_sols(load_model(out), [mdgm_dir / "P01_day03_zequat.jpg"], str(ref_dir),
                              meta["validation"]["buffer"])
    assert meta["validation"]["pooled"]["iou"] == pytest.approx(pooled.metrics()["iou"])
    lines.clear()
    train(config, tmp_path / "run", resume=True, log=lines.append)                    # finished members are kept
    assert not [line for line in lines if line.startswith("member")]


def test_the_ensemble_recipe_runs_the_shipped_reference_recipe_twice_and_at_width_16(repo_root):
    from mars_cloudmask_lab.commands.train import read_recipe
    from mars_cloudmask_lab.train import TrainConfig, member_configs, stage_configs
    recipes = repo_root / "mars_cloudmask_lab" / "recipes"
    shipped = TrainConfig(**read_recipe(recipes / "clearsky_w8_consensus.json"))
    members = member_configs(TrainConfig(**read_recipe(recipes / "clearsky_ensemble.json")))
    assert [m.width for m in members] == [8, 8, 16]
    assert [[s.seed for s in stage_configs(m)] for m in members[:2]] == [[0, 1, 2, 6], [10, 11, 12, 16]]
    for member in members:
        assert [replace(s, seed=0, width=8, name="", version="", notes=[]) for s in stage_configs(member)] == [
            replace(s, seed=0, width=8, name="", version="", notes=[]) for s in stage_configs(shipped)]
        assert member.colour_jitter == 0 and all(s.colour_jitter == 0 for s in stage_configs(member))


def test_the_shipped_reference_files_are_the_ensemble_recipes_18_day_run_and_one_network_of_its_recipe(repo_root):
    from mars_cloudmask_lab.commands.train import read_recipe
    from mars_cloudmask_lab.train import TrainConfig, member_configs
    from mars_cloudmask_plugin.model import DEFAULT_CLEARSKY_MODEL, FASTER_CLEARSKY_MODEL, read_metadata
    recipe = TrainConfig(**read_recipe(repo_root / "mars_cloudmask_lab" / "recipes" / "clearsky_ensemble.json"))
    shipped = read_metadata(DEFAULT_CLEARSKY_MODEL)
    all_days = [f"P01_day{d:02d}" for d in range(1, 19)]
    assert (shipped["name"], shipped["version"]) == (recipe.name, recipe.version)
    assert shipped["training_days"] == all_days and not shipped["validation_days"]
    members = member_configs(recipe)
    assert [(m["name"], m["version"], m["width"]) for m in shipped["members"]] == [
        (m.name, m.version, m.width) for m in members]
    faster = read_metadata(FASTER_CLEARSKY_MODEL)
    assert (faster["name"], faster["version"]) == (members[0].name, members[0].version)
    assert faster["training_days"] == all_days and faster["inputs"] == shipped["inputs"]


@pytest.mark.parametrize("key", ["init_from", "seed_offset", "members", "no_such_setting"])
def test_a_stage_that_sets_what_only_the_whole_recipe_may_is_refused_in_one_line(key):
    from mars_cloudmask_lab.train import TrainConfig, stage_configs
    from mars_cloudmask_plugin.errors import CloudmaskError
    config = TrainConfig(mdgm_dir="m", reference_dir="r", train_days=["P01_day01"], val_days=[],
                         stages=[{"epochs": 1}, {key: 1}])
    with pytest.raises(CloudmaskError, match=f"recipe stages cannot set {key}"):
        stage_configs(config)
