"""An ensemble model file (mars_cloudmask_lab/ensemble.py): the mean of its members' probabilities,
run by the engine like any model, with seamless tiling exact and tile memory for every member."""
import numpy as np
import pytest

from mars_cloudmask_plugin.errors import CloudmaskError

LATITUDE_HEAD = {"boxes": [5, 15], "units": [4]}


def _member(directory, name, width, colour_head=None, seed=0, inputs=("red", "green", "blue", "latitude")):
    import keras
    from mars_cloudmask_plugin.model import load_model, model_metadata, save_model
    from mars_cloudmask_plugin.unet import build_unet
    keras.utils.set_random_seed(seed)
    km = build_unet(width=width, inputs=list(inputs), colour_head=colour_head)
    meta = model_metadata(km, name=name, version="test", width=width, tile_size=316, threshold=0.5,
                          inputs=list(inputs), training_days=["P01_day01"], validation_days=["P01_day03"])
    return load_model(save_model(km, directory / f"{name}.keras", meta, include_optimizer=False))


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Two tiny members that learnt apart: another width, one with a colour head."""
    directory = tmp_path_factory.mktemp("members")
    return [_member(directory, "narrow-head", 2, LATITUDE_HEAD, seed=1), _member(directory, "wide", 4, seed=2)]


@pytest.fixture(scope="module")
def ensemble_path(members, tmp_path_factory):
    from mars_cloudmask_lab.ensemble import ensemble_metadata, ensemble_network
    from mars_cloudmask_plugin.model import save_model
    network = ensemble_network([m.keras_model for m in members])
    meta = ensemble_metadata(network, members, "tiny-ensemble", "test", threshold=0.5)
    return save_model(network, tmp_path_factory.mktemp("ensemble") / "ensemble.keras", meta, include_optimizer=False)


def test_an_ensemble_file_gives_the_mean_of_its_members_probabilities(members, ensemble_path):
    from mars_cloudmask_plugin.model import load_model
    tile = np.random.default_rng(0).uniform(0, 255, (1, 316, 316, 4)).astype(np.float32)
    tile[..., 3] = np.linspace(-60, 60, 316)[:, None]
    expected = np.mean([m.predict(tile) for m in members], axis=0)
    ensemble = load_model(ensemble_path)                     # loaded back from disk, as the engine does
    np.testing.assert_allclose(ensemble.predict(tile), expected, atol=1e-5)
    assert ensemble.margin == members[0].margin and ensemble.channels == members[0].channels
    assert [m["name"] for m in ensemble.metadata["members"]] == ["narrow-head", "wide"]
    assert ensemble.metadata["width"] == 6 and "mean of 2 networks" in ensemble.metadata["architecture"]


def test_seamless_tiling_stays_exact_for_an_ensemble(ensemble_path, make_mdgm):
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    model, mdgm = load_model(ensemble_path), make_mdgm()
    whole = make_cloudmask(mdgm, model, tile_size=None)
    tiled = make_cloudmask(mdgm, model, tile_size=316)
    assert len(tiled.layout.offsets) > 10
    np.testing.assert_allclose(whole.prob_area, tiled.prob_area, atol=2e-5)
    assert whole.tags()["MODEL"] == "tiny-ensemble test"


def test_the_tile_memory_of_an_ensemble_counts_every_members_width_and_head(members, ensemble_path):
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.pipeline import memory_width
    assert memory_width(load_model(ensemble_path)) == pytest.approx(sum(memory_width(m) for m in members))
    assert memory_width(members[0]) > 2                      # the head's full-resolution channels count


def test_members_that_take_other_inputs_are_refused_in_one_line(members, tmp_path):
    from mars_cloudmask_lab.ensemble import check_members
    rgb_only = _member(tmp_path, "rgb-only", 2, inputs=("red", "green", "blue"))
    with pytest.raises(CloudmaskError, match=r"rgb-only\.keras: cannot join an ensemble with narrow-head\.keras: "
                                             r"its inputs"):
        check_members([members[0], rgb_only])


def test_an_ensemble_needs_two_members(members):
    from mars_cloudmask_lab.ensemble import ensemble_network
    with pytest.raises(CloudmaskError, match="at least two models"):
        ensemble_network([members[0].keras_model])


def test_the_benchmark_counts_an_ensembles_flops_as_its_members_added_up(members, ensemble_path):
    from mars_cloudmask_lab.benchmark import conv_flops
    from mars_cloudmask_plugin.model import load_model
    ensemble = load_model(ensemble_path).keras_model
    each = [conv_flops(m.keras_model, 316, 316) for m in members]
    assert all(f > 0 for f in each) and conv_flops(ensemble, 316, 316) == sum(each)


def test_the_ensemble_command_refuses_mismatched_members_in_one_line_and_writes_nothing(cli, members, tmp_path):
    rgb_only = _member(tmp_path, "rgb-only", 2, inputs=("red", "green", "blue"))
    out = tmp_path / "ensemble.keras"
    rc, _, err = cli("ensemble", str(members[0].path), str(rgb_only.path), "--out", str(out),
                     "--run-dir", str(tmp_path / "run"))
    assert rc == 1 and "rgb-only.keras: cannot join an ensemble" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()
    rc, _, err = cli("ensemble", str(members[0].path), "--out", str(out), "--run-dir", str(tmp_path / "run"))
    assert rc == 1 and "narrow-head.keras: an ensemble needs at least two models" in err
