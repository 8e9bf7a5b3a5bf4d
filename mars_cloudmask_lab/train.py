"""Training the U-Net on MDGMs and reference masks, reproducibly and resumably.

A run folder holds config.json (every setting, the seed included), log.csv (loss and validation
metrics per epoch), last.keras (weights + optimizer state, for --resume) and, at the end,
final.keras (weights + metadata, what `--export` copies into models/).
"""
import csv
import json
import time
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from mars_cloudmask_plugin import grid
from mars_cloudmask_plugin.archive import find_sol, mdgm_path_for, reference_path_for
from mars_cloudmask_plugin.bounds import DEFAULT_BUFFER
from mars_cloudmask_plugin.crop import pad_area, prediction_area
from mars_cloudmask_plugin.errors import CloudmaskError
from mars_cloudmask_plugin.mdgm import has_data, read_mdgm
from mars_cloudmask_plugin.raster import read_reference
from mars_cloudmask_plugin.unet import (FIRST_CONV, HEAD_INPUT, HEAD_PREFIX, OUTPUT_LAYER, head_features,
                                        head_layers, is_valid_input_size, margin as unet_margin)

from .metrics import Confusion, confusions_by_threshold


@dataclass
class TrainConfig:
    mdgm_dir: str
    reference_dir: str
    train_days: list
    val_days: list
    width: int = 16
    depth: int = 4
    patch: int = 572            # input side of a training patch (16k + 124)
    batch: int = 4
    steps_per_epoch: int = 40
    epochs: int = 30
    learning_rate: float = 1e-3
    loss: str = "bce+dice"
    flips: bool = True          # left-right, up-down, and both (= 180-degree rotation)
    colour_jitter: float = 0.05  # std of a per-band gain; 0 turns it off
    # Each patch's season inputs (season_sin, season_cos) turned by a random Ls offset of up to this
    # many degrees: the P01 training days lie 0.4-0.5 degrees of Ls apart, and a head that sees the
    # exact Ls learns them day by day; 0 turns it off.
    season_jitter: float = 0.0
    # The same for the weak dust-season patches alone (180: any season), where it differs: their
    # labels are clear pixels only, so a head that knows their season can learn "the dust season is
    # clear" instead of what clear looks like. 0: season_jitter applies to them too.
    weak_season_jitter: float = 0.0
    min_labelled: float = 0.05  # resample patches with less than this share of labelled pixels
    buffer: float = DEFAULT_BUFFER
    threshold: float = 0.5
    latitude_channel: bool = False   # a fourth input channel: latitude in degrees
    # The network's input channels by name (inputs.CHANNELS); empty: RGB (+ latitude above). With
    # clear-sky channels, each sol's reference is made from every MDGM in its own folder (its
    # subphase: imagery only, never labels), cached in the run folder.
    inputs: list = field(default_factory=list)
    clearsky_percentile: float = 20.0
    clearsky_min_sols: int = 3
    # A per-pixel last layer seeing the decoder, the inputs and their box means (unet.build_unet):
    # {"boxes": [5, 15, 45], "units": [32, 16]}; empty: the plain 1x1 sigmoid convolution.
    colour_head: dict = field(default_factory=dict)
    # Fit the colour head alone before the epochs (fit_colour_head): features of this many random
    # training patches through the network as it stands, `head_pixels_per_patch` scored pixels of
    # each, `head_epochs` passes of Adam on the masked BCE. 0: no separate fit.
    head_patches: int = 0
    head_pixels_per_patch: int = 4000
    head_epochs: int = 10
    head_dropout: float = 0.0
    head_weight_decay: float = 0.0
    # Stages run one after another by one command, each starting from the previous stage's weights:
    # a list of overrides of the settings above (e.g. {"epochs": 20, "learning_rate": 3e-4}).
    stages: list = field(default_factory=list)
    # Added to every stage's seed: another run of the same staged recipe (an ensemble's second member).
    seed_offset: int = 0
    # An ensemble: the settings of each member (a whole recipe each, read by commands.train.read_recipe),
    # trained one after another into run_dir/member1, member2 ... on this config's sols, then joined
    # by ensemble.make_ensemble (the mean of their probabilities, its threshold on the training sols).
    members: list = field(default_factory=list)
    bn_momentum: float = 0.9        # BatchNorm running statistics must keep up with few, small batches
    recalibration_batches: int = 50  # exact population statistics before export (see recalibrate_batchnorm)
    init_from: str = ""             # a model file whose weights start the run (fine-tuning); "" = random
    freeze_batchnorm: bool = False  # train with BatchNorm in inference mode (see start_model)
    choose_threshold: bool = False  # after training, the threshold with the best IoU on the training sols
    # Weak labels: [[MDGM file, mask file], ...] of ANOTHER model's masks (e.g. the published model's
    # season sample). Only the pixels that mask calls clear are trained on (see labels_for); they
    # fill `weak_share` of the patches. Never scored as accuracy: validation stays on reference masks.
    weak_sols: list = field(default_factory=list)
    # Consensus labels: [[MDGM file, mask file], ...] of another model's masks where only the pixels
    # on which that mask and the model this run starts from (init_from, at its threshold) agree are
    # trained on, cloud and clear alike: two models learnt apart that agree are a sol's likeliest
    # pseudo-label; where they disagree nothing is learnt. They share `weak_share` with weak_sols.
    consensus_sols: list = field(default_factory=list)
    weak_share: float = 0.0
    seed: int = 0
    name: str = "mars_cloudmask_unet"
    version: str = "dev"
    notes: list = field(default_factory=list)


@dataclass
class TrainingSol:
    name: str
    padded: np.ndarray    # uint8 RGB of the prediction area padded by the margin
    label: np.ndarray     # float32 1 cloud / 0 clear, area shape
    weight: np.ndarray    # float32 1 scored / 0 ignored, area shape
    clear_only: bool = False   # a weak-label sol: only its clear pixels are scored


def labels_for(mdgm, reference, clear_only=False, agree_with=None):
    """(label, weight) on the global grid: weight 0 where the reference is -999 or the MDGM has no data.

    clear_only (weak labels from another model's mask): its cloud pixels get weight 0 too, so the
    mask only teaches where that model saw no cloud; what it calls cloud is never learnt from.
    agree_with (an Int16 mask of a second model, -999 unscored): only pixels where both masks say the
    same are scored (consensus labels).
    """
    scored = (reference != grid.NODATA) & has_data(mdgm.rgb)
    if clear_only:
        scored &= reference == 0
    if agree_with is not None:
        scored &= (agree_with != grid.NODATA) & ((agree_with == 1) == (reference == 1))
    return (reference == 1).astype(np.float32), scored.astype(np.float32)


def load_training_sol(config, name, margin, clearsky_of=None):
    ref_path = reference_path_for(name, config.reference_dir)
    if ref_path is None:
        raise CloudmaskError(Path(config.reference_dir), f"no reference mask for {name}")
    return _training_sol(config, mdgm_path_for(name, config.mdgm_dir, "a training or validation sol"), ref_path, margin,
                         clearsky_of=clearsky_of)


def load_weak_sol(config, mdgm_file, mask_file, margin, clearsky_of=None):
    """A weak-label sol of `weak_sols`: only the clear pixels of another model's mask are scored."""
    if not Path(mask_file).exists():
        raise CloudmaskError(Path(mask_file), "weak-label mask not found")
    return _training_sol(config, Path(mdgm_file), Path(mask_file), margin, clear_only=True, clearsky_of=clearsky_of)


def load_consensus_sol(config, mdgm_file, mask_file, margin, judge, clearsky_of=None):
    """A consensus-label sol of `consensus_sols`: the pixels where another model's mask and `judge`
    (a CloudModel of the single-map kind, at its threshold) agree."""
    if not Path(mask_file).exists():
        raise CloudmaskError(Path(mask_file), "consensus-label mask not found")
    return _training_sol(config, Path(mdgm_file), Path(mask_file), margin, clearsky_of=clearsky_of, judge=judge)


def judge_mask(judge, mdgm, ls, buffer):
    """The Int16 global mask `judge` makes of an MDGM (what consensus labels compare with)."""
    from mars_cloudmask_plugin.pipeline import probability_for
    from mars_cloudmask_plugin.postfilter import global_probability, mask_from_probability
    prob, area, _ = probability_for(mdgm, ls, judge, buffer=buffer)
    return mask_from_probability(global_probability(prob, area, mdgm.rgb), mdgm.rgb, judge.threshold)


def channels_of(config):
    """The input channel names a config trains."""
    from mars_cloudmask_plugin.inputs import LEGACY_INPUTS
    return tuple(config.inputs) or LEGACY_INPUTS["rgb+latitude" if config.latitude_channel else "rgb"]


def clearsky_source(config, clearsky_dir):
    """mdgm path -> the ClearSky of its folder (built once into `clearsky_dir`), or None when the
    config's inputs need none."""
    from mars_cloudmask_plugin.inputs import needs_clearsky
    from .evaluate import clearsky_lookup
    spec = "auto" if needs_clearsky(channels_of(config)) else None
    lookup = clearsky_lookup(spec, clearsky_dir, config.clearsky_percentile, config.clearsky_min_sols)
    cache = {}          # training holds every sol in memory anyway: keep each folder's reference once

    def for_mdgm(path):
        folder = Path(path).resolve().parent
        if folder not in cache:
            cache[folder] = lookup(path)
        return cache[folder]
    return for_mdgm


def _training_sol(config, mdgm_file, mask_file, margin, clear_only=False, clearsky_of=None, judge=None):
    mdgm = read_mdgm(mdgm_file)
    sol = find_sol(mdgm.path)
    agree_with = judge_mask(judge, mdgm, sol.ls, config.buffer) if judge is not None else None
    label, weight = labels_for(mdgm, read_reference(mask_file), clear_only, agree_with)
    area = prediction_area(mdgm.rgb, sol.ls, config.buffer, mdgm.path)
    clearsky = clearsky_of(mdgm.path) if clearsky_of else None
    padded = pad_area(mdgm.rgb, area, margin, margin, margin, channels=channels_of(config), clearsky=clearsky)
    return TrainingSol(sol.name, padded, label[area.slices], weight[area.slices], clear_only)


def sample_patch(sol, patch, margin, rng, min_labelled):
    """A random (input, target) pair; target channels are [label, weight]."""
    out = patch - 2 * margin
    h, w = sol.label.shape
    for _ in range(20):
        r, c = int(rng.integers(0, h - out + 1)), int(rng.integers(0, w - out + 1))
        wgt = sol.weight[r:r + out, c:c + out]
        if wgt.mean() >= min_labelled:
            break
    x = sol.padded[r:r + patch, c:c + patch]
    y = np.stack([sol.label[r:r + out, c:c + out], wgt], axis=-1)
    return x, y


def augment(x, y, rng, flips, jitter, season=None):
    """Flips, a per-band gain of std `jitter` on RGB, and with `season` ((sin index, cos index),
    degrees) the season channels turned by a random Ls offset of up to that many degrees."""
    x = x.astype(np.float32)
    if flips:
        if rng.random() < 0.5:
            x, y = x[:, ::-1], y[:, ::-1]
        if rng.random() < 0.5:
            x, y = x[::-1], y[::-1]
    if jitter:
        x[..., :3] = np.clip(x[..., :3] * (1.0 + rng.normal(0.0, jitter, 3)).astype(np.float32), 0, 255)
    if season:
        (i_sin, i_cos), degrees = season
        turn = np.radians(rng.uniform(-degrees, degrees))
        sin, cos = x[..., i_sin].copy(), x[..., i_cos].copy()       # sin(a + d), cos(a + d)
        x[..., i_sin] = sin * np.cos(turn) + cos * np.sin(turn)
        x[..., i_cos] = cos * np.cos(turn) - sin * np.sin(turn)
    return np.ascontiguousarray(x), np.ascontiguousarray(y)


def season_augmentation(config, weak=False):
    """augment's `season` argument for `config` (for a weak-label patch with `weak`): None without
    season inputs or jitter."""
    names = list(channels_of(config))
    degrees = (weak and config.weak_season_jitter) or config.season_jitter
    if not degrees or "season_sin" not in names:
        return None
    return (names.index("season_sin"), names.index("season_cos")), degrees


def make_batch(sols, config, margin, rng, weak=()):
    """A batch of augmented patches; with `weak` sols, each patch comes from one of them with
    probability config.weak_share (no extra random draws without them, so older runs replay)."""
    xs, ys = [], []
    for _ in range(config.batch):
        pool = weak if weak and rng.random() < config.weak_share else sols
        sol = pool[int(rng.integers(len(pool)))]
        x, y = sample_patch(sol, config.patch, margin, rng, config.min_labelled)
        x, y = augment(x, y, rng, config.flips, config.colour_jitter, season_augmentation(config, weak=sol.clear_only))
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.stack(ys)


def evaluate_sols(cloud_model, sols_paths, reference_dir, buffer=DEFAULT_BUFFER, tile_size=None, clearsky_of=None):
    """Per-sol and pooled confusion of a model on full maps (the `evaluate` command's scoring)."""
    from .evaluate import evaluate_mdgms
    evaluation = evaluate_mdgms(sols_paths, reference_dir, cloud_model, buffer=buffer, tile_size=tile_size,
                                clearsky_of=clearsky_of)
    per_sol = {score.sol: score.confusion for score in evaluation.scores}
    return per_sol, evaluation.pooled(cloud_model.label)


HEAD_BATCH = 4096     # pixels per step of the colour head's fit


def fit_colour_head(model, sols, config, margin, weak=(), log=print):
    """Fit the colour head's per-pixel layers (and the output layer) alone, the rest of `model` fixed.

    A pixel's decision is a small function of 40-odd features, but learnt through whole patches it
    takes thousands of steps; through sampled pixels, as gradient boosting learns, it takes minutes.
    Returns the head's final training loss."""
    x, y = head_training_pixels(model, sols, config, margin, weak)
    log(f"colour head: {len(y):,} pixels of {config.head_patches} patches ({y.mean():.1%} cloud)")
    return fit_head_on_pixels(model, x, y, config, log)


def head_training_pixels(model, sols, config, margin, weak=()):
    """(features, labels): what the head sees in the network (decoder features, inputs, box means)
    at `head_pixels_per_patch` scored pixels of each of `head_patches` random training patches."""
    import keras
    features_of = keras.Model(model.inputs, model.get_layer(HEAD_INPUT).output)
    rng = np.random.default_rng([config.seed, 2 * 10 ** 6])
    xs, ys = [], []
    for _ in range(-(-config.head_patches // config.batch)):
        x, y = make_batch(sols, config, margin, rng, weak)
        for patch_features, target in zip(features_of.predict(x, verbose=0), y):
            rows, cols = np.nonzero(target[..., 1] > 0)
            pick = rng.choice(rows.size, min(rows.size, config.head_pixels_per_patch), replace=False)
            xs.append(patch_features[rows[pick], cols[pick]])
            ys.append(target[rows[pick], cols[pick], 0])
    return np.concatenate(xs), np.concatenate(ys)


def fit_head_on_pixels(model, x, y, config, log=print):
    """Fit the head's layers as dense layers on (features, labels) with Adam (AdamW with
    head_weight_decay, dropout before each hidden layer's output with head_dropout), cosine
    schedule, BCE; the weights go back into the 1x1 convolutions. Returns the final loss."""
    import keras
    convs = head_layers(model)
    dense = [keras.layers.Dense(layer.filters, activation=layer.activation) for layer in convs]
    stack = [keras.Input((x.shape[1],))]
    for layer in dense[:-1]:
        stack += [layer] + ([keras.layers.Dropout(config.head_dropout)] if config.head_dropout else [])
    pixels = keras.Sequential(stack + [dense[-1]])
    for layer, conv in zip(dense, convs):
        kernel, bias = conv.get_weights()
        layer.set_weights([kernel[0, 0], bias])
    steps = config.head_epochs * -(-len(y) // HEAD_BATCH)
    schedule = keras.optimizers.schedules.CosineDecay(config.learning_rate, decay_steps=steps, alpha=0.05)
    optimizer = (keras.optimizers.AdamW(schedule, weight_decay=config.head_weight_decay) if config.head_weight_decay
                 else keras.optimizers.Adam(schedule))
    pixels.compile(optimizer=optimizer, loss="binary_crossentropy")
    history = pixels.fit(x, y, batch_size=HEAD_BATCH, epochs=config.head_epochs, verbose=0,
                         callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: log(
                             f"colour head epoch {epoch + 1}: loss {logs['loss']:.4f}"))])
    for layer, conv in zip(dense, convs):
        kernel, bias = layer.get_weights()
        conv.set_weights([kernel[None, None], bias])
    return float(history.history["loss"][-1])


def recalibrate_batchnorm(model, batches):
    """Set every BatchNorm's moving mean and variance to the exact average of its batch statistics
    over `batches` (input arrays), with momentum k/(k+1) at step k; weights are not touched.

    Running averages lag the weights when training is short: the last checkpoint then predicts far
    less cloud in inference mode than in training mode. Recalibrating the final weights removes that gap.
    """
    import keras
    norms = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    saved = [l.momentum for l in norms]
    try:
        for k, x in enumerate(batches):
            for layer in norms:
                layer.momentum = k / (k + 1)
            model(x, training=True)
    finally:
        for layer, momentum in zip(norms, saved):
            layer.momentum = momentum


def recalibration_batches(sols, config, margin):
    """Training patches with flips but no colour jitter: the statistics of real images."""
    rng = np.random.default_rng([config.seed, 10 ** 6])
    plain = TrainConfig(**{**asdict(config), "colour_jitter": 0.0})
    for _ in range(config.recalibration_batches):
        yield make_batch(sols, plain, margin, rng)[0]


def start_model(config):
    """The network a new run starts from: random weights, or those of `init_from` (same geometry).

    With freeze_batchnorm every BatchNorm layer runs in inference mode during training too, so the
    network being optimised is exactly the one that predicts: no gap between batch statistics of a
    4-patch batch and the population statistics used at inference (recalibration is then skipped).
    """
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.unet import build_unet
    model = build_unet(config.width, config.depth, name=config.name, bn_momentum=config.bn_momentum,
                       latitude_channel=config.latitude_channel, inputs=config.inputs or None,
                       colour_head=config.colour_head or None)
    if config.init_from:
        transfer_weights(load_model(config.init_from), model, channels_of(config))
    if config.freeze_batchnorm:
        import keras
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    return model


GROWN_LAYERS = ("scale_0_1", OUTPUT_LAYER)   # may differ between a source and a grown network


def transfer_weights(source, model, channels):
    """Start `model` (taking `channels`) from `source` (a CloudModel) layer by layer, by name.

    Where `channels` are the source's plus new ones (a single-map model growing the clear-sky
    inputs), the first convolution gets zero weights for the new channels, so without a colour head
    the grown network starts out computing exactly what the source did. Layers the source lacks (a
    new colour head) keep their fresh initial weights, and so do the output layer and a head of
    another size. A source's head over other features (a single-map model's head, when a
    reference-aware one grows from it) is another head: none of it starts this run's. Any other
    difference means another geometry: refused."""
    old = list(source.channels)
    if not set(old) <= set(channels):
        raise CloudmaskError(source.path, f"its inputs {', '.join(old)} are not among this run's {', '.join(channels)}")
    by_name = {layer.name: layer for layer in source.keras_model.layers}
    if head_features(source.keras_model) != head_features(model):
        for layer in head_layers(source.keras_model):
            by_name.pop(layer.name)
    for layer in model.layers:
        weights = by_name[layer.name].get_weights() if layer.name in by_name else None
        if not weights:
            continue
        if layer.name == FIRST_CONV:
            weights = [_widened_kernel(weights[0], old, channels)] + weights[1:]
        shapes_match = [w.shape for w in weights] == [tuple(w.shape) for w in layer.weights]
        if shapes_match:
            layer.set_weights(weights)
        elif layer.name not in GROWN_LAYERS and not layer.name.startswith(HEAD_PREFIX):
            raise CloudmaskError(source.path, "its network does not match the configured width, depth and inputs "
                                              f"(layer {layer.name}), so its weights cannot start this run")


def _widened_kernel(kernel, old, channels):
    """The first 3x3 convolution's (3, 3, channels, filters) kernel, zero for the new channels."""
    wide = np.zeros(kernel.shape[:2] + (len(channels),) + kernel.shape[3:], kernel.dtype)
    for i, name in enumerate(channels):
        if name in old:
            wide[:, :, i] = kernel[:, :, old.index(name)]
    return wide


THRESHOLDS = tuple(round(0.2 + 0.05 * i, 2) for i in range(13))   # 0.20, 0.25, ... 0.80


def threshold_sweep(cloud_model, config, names, clearsky_of=None):
    """Pooled Confusion per THRESHOLDS value of a model over full maps of `names` (training sols:
    the threshold is part of the recipe, so it is never chosen on the validation sols)."""
    from .evaluate import probability_on_sol
    totals = [Confusion() for _ in THRESHOLDS]
    for name in names:
        path = mdgm_path_for(name, config.mdgm_dir, "a training or validation sol")
        sol, probability = probability_on_sol(path, config.reference_dir, cloud_model, config.buffer,
                                              clearsky=clearsky_of(path) if clearsky_of else None)
        sol_totals = confusions_by_threshold(probability, sol.reference, sol.data, THRESHOLDS)
        totals = [a + b for a, b in zip(totals, sol_totals)]
    return totals


# How a run (or an ensemble) chose its threshold, said in each model file.
THRESHOLD_CHOICE = "highest pooled IoU on the training sols over 0.20-0.80 in steps of 0.05"


def choose_threshold(cloud_model, config, run_dir, log=print, clearsky_of=None):
    """The THRESHOLDS value with the highest pooled IoU on the training sols; the sweep goes to
    threshold.csv in the run folder."""
    totals = threshold_sweep(cloud_model, config, config.train_days, clearsky_of)
    rows = [{"threshold": t, **{k: round(c.metrics()[k], 4) for k in ("iou", "f1", "precision", "recall")}}
            for t, c in zip(THRESHOLDS, totals)]
    with open(Path(run_dir) / "threshold.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    best = max(rows, key=lambda r: r["iou"])
    log(f"threshold {best['threshold']} (pooled IoU {best['iou']} on the training sols)")
    return best["threshold"]


def best_threshold_index(totals):
    """Index into THRESHOLDS (and `totals`, a Confusion per threshold) of the highest pooled IoU."""
    return max(range(len(totals)), key=lambda i: totals[i].metrics()["iou"])


def validation_summary(cloud_model, val_paths, config, clearsky_of=None, days=None):
    """Figures of the final model on the validation sols (never trained on), stored in the model file;
    with `days` (their names, matching val_paths) the same figures for other sols."""
    per_sol, pooled = evaluate_sols(cloud_model, val_paths, config.reference_dir, config.buffer,
                                    clearsky_of=clearsky_of)
    return {"days": list(config.val_days if days is None else days), "buffer": config.buffer,
            "pooled": pooled.metrics(), "per_sol": {name: c.metrics() for name, c in per_sol.items()},
            "scoring": "pixels where the reference is valid and the MDGM has data; predicted -999 counts as clear"}


def stage_configs(config):
    """The configs of a staged recipe: stage k is the recipe with stage k's overrides, starting from
    stage k-1's final weights (the first from `init_from`, "" = random weights)."""
    unknown = sorted({key for stage in config.stages for key in stage} - {f.name for f in fields(TrainConfig)}
                     | {key for stage in config.stages for key in stage if key in ("stages", "init_from", "seed_offset", "members")})
    if unknown:
        raise CloudmaskError(None, f"recipe stages cannot set {', '.join(unknown)}")
    base = {**asdict(config), "stages": [], "seed_offset": 0}
    return [TrainConfig(**{**base, **stage, "seed": stage.get("seed", config.seed) + config.seed_offset})
            for stage in config.stages]


# What an ensemble's members take from the ensemble's own config: one set of sols for all of them.
MEMBER_SOLS = ("mdgm_dir", "reference_dir", "train_days", "val_days")


def member_configs(config):
    """The TrainConfig of each member of an ensemble recipe, on the ensemble's sols."""
    return [TrainConfig(**{**member, **{key: getattr(config, key) for key in MEMBER_SOLS}})
            for member in config.members]


def train_ensemble(config, run_dir, resume=False, log=print):
    """Train every member of an ensemble recipe into run_dir/memberK (each resumable; a finished
    member is kept on --resume), then join them into run_dir/final.keras."""
    from .ensemble import make_ensemble
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=2))
    finals = []
    for k, member in enumerate(member_configs(config), start=1):
        final = run_dir / f"member{k}" / "final.keras"
        if not (resume and final.exists()):
            log(f"member {k} of {len(config.members)}: {member.name} {member.version}, width {member.width}")
            train(member, final.parent, resume=resume, log=log)
        finals.append(final)
    return make_ensemble(finals, run_dir / "final.keras", run_dir, config.name, config.version, log)


def train_stages(config, run_dir, resume=False, log=print):
    """Run every stage of a staged recipe in run_dir/stage1, stage2 ... (each resumable; a finished
    stage is kept on --resume), then write run_dir/final.keras: the last stage's model, its metadata
    telling the whole recipe and its total training time."""
    from mars_cloudmask_plugin.model import load_model, save_model
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=2))
    previous, seconds = config.init_from, 0.0
    stages = stage_configs(config)
    for k, stage in enumerate(stages, start=1):
        stage.init_from = previous
        stage_dir = run_dir / f"stage{k}"
        final = stage_dir / "final.keras"
        if not (resume and final.exists()):
            offset = f" (seed {stage.seed} with seed_offset {config.seed_offset})" if config.seed_offset else ""
            log(f"stage {k} of {len(config.stages)}: {json.dumps(config.stages[k - 1])}{offset}")
            train(stage, stage_dir, resume=resume, log=log, clearsky_dir=run_dir / "clearsky")
        seconds += float(load_model(final).metadata.get("training_seconds", 0.0))
        previous = str(final)
    last = load_model(previous)
    meta = dict(last.metadata, training_seconds=round(seconds, 1), recipe=asdict(config),
                stages=len(config.stages))
    if not stages[-1].val_days:
        meta["training_fit"] = training_fit(last, stages[-1], run_dir, log)
    final = save_model(last.keras_model, run_dir / "final.keras", meta, include_optimizer=False)
    log(f"wrote {final} ({len(config.stages)} stages, {seconds:.0f} s of training)")
    return final


def train(config, run_dir, resume=False, log=print, clearsky_dir=None):
    """Train (or resume) a run; returns the path of the run's final model. A config with `stages`
    runs them all (train_stages). Clear-sky references are cached in `clearsky_dir` (default
    run_dir/clearsky)."""
    if config.members:
        return train_ensemble(config, run_dir, resume, log)
    if config.stages:
        return train_stages(config, run_dir, resume, log)
    if config.seed_offset:
        config = replace(config, seed=config.seed + config.seed_offset, seed_offset=0)
    import keras
    from .losses import LOSSES
    from mars_cloudmask_plugin.inputs import needs_clearsky
    from mars_cloudmask_plugin.model import CloudModel, model_metadata, save_model

    run_dir = Path(run_dir)
    margin = unet_margin(config.depth)
    if not is_valid_input_size(config.patch, config.depth):
        raise CloudmaskError(None, f"patch {config.patch} is not a valid U-Net input size (16k + 124)")
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path, log_path, last_path = run_dir / "config.json", run_dir / "log.csv", run_dir / "last.keras"
    done_epochs = 0
    if resume and last_path.exists():
        config = TrainConfig(**json.loads(config_path.read_text()))
        done_epochs = len(_read_log(log_path))
        model = keras.saving.load_model(last_path)
        log(f"resuming {run_dir} after epoch {done_epochs}")
    else:
        config_path.write_text(json.dumps(asdict(config), indent=2))
        log_path.unlink(missing_ok=True)
        keras.utils.set_random_seed(config.seed)
        model = start_model(config)
        schedule = keras.optimizers.schedules.CosineDecay(
            config.learning_rate, decay_steps=max(1, config.epochs * config.steps_per_epoch), alpha=0.05)
        model.compile(optimizer=keras.optimizers.Adam(schedule), loss=LOSSES[config.loss])
    log(f"loading {len(config.train_days)} training sols")
    clearsky_of = clearsky_source(config, clearsky_dir or run_dir / "clearsky")
    sols = [load_training_sol(config, name, margin, clearsky_of) for name in config.train_days]
    weak = [load_weak_sol(config, mdgm_file, mask_file, margin, clearsky_of) for mdgm_file, mask_file in config.weak_sols]
    if weak:
        log(f"{len(weak)} weak-label sols (clear pixels only), {config.weak_share:.0%} of the patches")
    weak_names = [sol.name for sol in weak]
    consensus = consensus_labels(config, margin, clearsky_of, log) if config.consensus_sols else []
    weak += consensus
    val_paths = [mdgm_path_for(name, config.mdgm_dir, "a training or validation sol") for name in config.val_days]
    meta = model_metadata(model, name=config.name, version=config.version, width=config.width,
                          depth=config.depth, threshold=config.threshold, inputs=channels_of(config),
                          training_days=config.train_days, validation_days=config.val_days, seed=config.seed)
    if config.colour_head:
        meta["architecture"] += f", colour head {json.dumps(config.colour_head)} (unet.build_unet)"
    if needs_clearsky(channels_of(config)):
        meta["clearsky"] = {"statistic": f"percentile {config.clearsky_percentile:g}", "min_sols": config.clearsky_min_sols,
                            "made_from": "every MDGM of the sol's own archive folder (its subphase), imagery only"}
    cloud_model = CloudModel(model, meta, last_path)
    started = time.time()
    if config.head_patches and done_epochs == 0:
        if not config.colour_head:
            raise CloudmaskError(None, "head_patches fits a colour head, but this run's network has none")
        meta["colour_head_loss"] = round(fit_colour_head(model, sols, config, margin, weak, log), 4)
        save_model(model, last_path, meta)
    for epoch in range(done_epochs, config.epochs):
        t0 = time.time()
        rng = np.random.default_rng([config.seed, epoch])
        losses = [float(model.train_on_batch(*make_batch(sols, config, margin, rng, weak)))
                  for _ in range(config.steps_per_epoch)]
        t_train = time.time() - t0
        row = {"epoch": epoch + 1, "loss": float(np.mean(losses)), "train_seconds": round(t_train, 1)}
        if val_paths:
            per_sol, pooled = evaluate_sols(cloud_model, val_paths, config.reference_dir, config.buffer,
                                            clearsky_of=clearsky_of)
            m = pooled.metrics()
            row.update({f"val_{k}": round(m[k], 4) for k in ("iou", "f1", "precision", "recall", "accuracy")})
            row.update({f"iou_{n}": round(c.metrics()["iou"], 4) for n, c in per_sol.items()})
        row["seconds"] = round(time.time() - t0, 1)
        save_model(model, last_path, meta)
        _append_log(log_path, row)
        log(" ".join(f"{k}={v}" for k, v in row.items()))
    if config.recalibration_batches and not config.freeze_batchnorm:
        recalibrate_batchnorm(model, recalibration_batches(sols, config, margin))
    if config.choose_threshold:
        meta["threshold"] = choose_threshold(cloud_model, config, run_dir, log, clearsky_of)
        meta["threshold_choice"] = THRESHOLD_CHOICE
    meta["training_seconds"] = round(time.time() - started, 1) + _logged_seconds(log_path, done_epochs)
    meta["epochs"] = config.epochs
    if weak_names:
        meta["weak_label_sols"] = weak_names
    if consensus:
        meta["consensus_label_sols"] = [sol.name for sol in consensus]
    meta["training_config"] = asdict(config)
    if val_paths:
        meta["validation"] = validation_summary(cloud_model, val_paths, config, clearsky_of)
    final = save_model(model, run_dir / "final.keras", meta, include_optimizer=False)
    log(f"wrote {final}")
    return final


def consensus_labels(config, margin, clearsky_of, log=print):
    """The consensus-label sols of a run, judged by the model it starts from."""
    from mars_cloudmask_plugin.model import load_model
    if not config.init_from:
        raise CloudmaskError(None, "consensus_sols compare with the model a run starts from: set init_from")
    judge = load_model(config.init_from)
    if judge.needs_clearsky:
        raise CloudmaskError(judge.path, "consensus labels are judged by a single-map model")
    sols = [load_consensus_sol(config, m, f, margin, judge, clearsky_of) for m, f in config.consensus_sols]
    share = np.mean([sol.weight.mean() for sol in sols])
    log(f"{len(sols)} consensus-label sols ({judge.label} and their masks agree on {share:.0%} of each area)")
    return sols


def training_fit(cloud_model, config, run_dir, log=print):
    """The final run on every labelled day has no validation sols: its figures on the sols it was
    trained on, stored so that a test can check the shipped file against its card (a fit, not a
    validation: the card's validation figures are those of the recipe's run on days 01-14)."""
    log(f"scoring the final model on its {len(config.train_days)} training sols")
    paths = [mdgm_path_for(name, config.mdgm_dir, "a training sol") for name in config.train_days]
    clearsky_of = clearsky_source(config, Path(run_dir) / "clearsky")
    summary = validation_summary(cloud_model, paths, config, clearsky_of, days=config.train_days)
    return {**summary, "note": "scored on the sols it was trained on: a fit, not a validation"}


def _logged_seconds(log_path, epochs):
    return sum(float(r["seconds"]) for r in _read_log(log_path)[:epochs])


def _read_log(path):
    if not Path(path).exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _append_log(path, row):
    rows = _read_log(path) + [row]
    keys = list(dict.fromkeys(k for r in rows for k in r))
    tmp = Path(path).with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, keys)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
