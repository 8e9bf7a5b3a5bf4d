"""The gradient-boosting baseline of the model issue, measured here: a per-pixel classifier on
multiscale colour features (R, G, B, blue/red, green/red, their box means at 5, 15 and 45 px, and
latitude), trained on the reference masks of P01 days 01-14 and scored on days 15-18 exactly as
`mars-cloudmask evaluate` scores the U-Net (reference valid AND the MDGM has data; every such
pixel is predicted, so coverage is 1, as for the U-Net at c = -4).

    .venv/bin/python mars_cloudmask_lab/scripts/gbm_baseline.py [--model PATH] [--pixels 2000000] [--without-ratios] [--data ../shared/data/P01]
        [--clearsky FILE | --clearsky-percentile P [--clearsky-cache DIR]] [--clearsky-features blue_red,blue]
        [--without-latitude] [--cloud-look-frequency] [--seasons DIR [--seasons-json FILE]]

With --model it also scores the average of the two probabilities (a stacking check, not a product).
With a clear-sky reference (mars_cloudmask_plugin.clearsky: a file, or one built with folder_clearsky
from every MDGM of the data's mdgm folder at percentile P, imagery only, no labels) it adds four
features and their box means: the reference's blue/red and blue, and the map's blue/red and blue minus
them; where the reference is missing the map's own value stands in (difference 0), as the engine does.
--clearsky-features keeps only the named reference quantities (blue_red, blue; default both), each with
its difference and their box means; --without-latitude leaves the latitude feature out (both for ablations).
--cloud-look-frequency (with a reference) adds, with its box means, how often each place looks cloudy in
the reference's own imagery: the share of the data folder's sols on which the pixel's blue/red exceeds
the reference's by more than 0.1 (imagery only, no labels): the model card's "Against the targets".
--seasons DIR also masks every MDGM below DIR (the season sample's layout, e.g. the held-out sols of
the card's "Seasons") with the same classifier, inside the same polar bounds as `mars-cloudmask seasons`
(c = 3), each sol with its own folder's reference at the same percentile, and prints (and with
--seasons-json writes) the seasons report, agreement with the published masks per subphase, which
seasons_compare.py compares with a network's.
Needs scikit-learn (installed by scripts/setup.sh). Reads ../shared/data/P01; prints tables; writes
nothing (a reference built without --clearsky-cache goes to a temporary folder, removed at the end).
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

from mars_cloudmask_plugin import grid
from mars_cloudmask_lab.evaluate import load_sol, probability_on_sol
from mars_cloudmask_plugin.archive import select_mdgms
from mars_cloudmask_plugin.archive import find_sol, sol_name
from mars_cloudmask_lab.metrics import Confusion, confusion
from mars_cloudmask_plugin.postfilter import mask_from_probability
from mars_cloudmask_plugin.model import load_model

BOX_SIZES = (5, 15, 45)
CLEARSKY_FEATURES = ("blue_red", "blue")
TRAIN_DAYS, VAL_DAYS = "1-14", "15-18"


def features(rgb, ratios=True, clearsky=None, clearsky_features=CLEARSKY_FEATURES, latitude=True, frequency=None):
    """(rows, cols, 21) float32: R, G, B, b/r, g/r, then each of those five box-averaged at 5, 15
    and 45 px (longitude wraps around the globe), then latitude in degrees; without `ratios`,
    the same for R, G and B alone (13 features). With `clearsky` (a ClearSky) four more base
    features, box-averaged as the others: the reference's b/r and b (the map's own where the
    reference is NaN) and the map's b/r and b minus them (37 features, 29 without `ratios`).
    `clearsky_features` keeps only the named reference quantities ("blue_red", "blue"), each with its
    difference; without `latitude` the last feature is left out; a `frequency` raster (see
    cloud_look_frequency) is one more base feature, box-averaged as the others."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    base = [r, g, b] + ([b / np.maximum(r, 1), g / np.maximum(r, 1)] if ratios else [])
    if clearsky is not None:
        ratio = b / np.maximum(r, 1)
        ref_ratio = np.where(np.isnan(clearsky.blue_red), ratio, clearsky.blue_red).astype(np.float32)
        ref_blue = np.where(np.isnan(clearsky.blue), b, clearsky.blue).astype(np.float32)
        refs = {"blue_red": ref_ratio, "blue": ref_blue}
        diffs = {"blue_red": ratio - ref_ratio, "blue": b - ref_blue}
        kept = [name for name in CLEARSKY_FEATURES if name in clearsky_features]
        base += [refs[name] for name in kept] + [diffs[name] for name in kept]
    if frequency is not None:
        base.append(frequency)
    boxed = [ndimage.uniform_filter(f, size, mode=("nearest", "wrap")) for size in BOX_SIZES for f in base]
    if not latitude:
        return np.stack(base + boxed, axis=-1)
    lat = np.broadcast_to(grid.latitude_of_row(np.arange(rgb.shape[0])).astype(np.float32)[:, None], r.shape)
    return np.stack(base + boxed + [lat], axis=-1)


CLOUD_LOOK_EXCESS = 0.1   # blue/red above the reference's: clear P01 pixels sit at 0.07, cloud at 0.25


def cloud_look_frequency(mdgm_dir, clearsky):
    """Per pixel, the share of the MDGMs in `mdgm_dir` (those with data there) on which the pixel looks
    cloudy against the reference (cloud_looks); 0 where the reference is missing. Imagery only."""
    from mars_cloudmask_plugin.mdgm import read_mdgm
    looks = np.zeros((grid.HEIGHT, grid.WIDTH), np.float32)
    seen = np.zeros_like(looks)
    for path in select_mdgms(mdgm_dir):
        cloudy, data = cloud_looks(read_mdgm(path).rgb, clearsky.blue_red)
        looks += cloudy
        seen += data
    return looks / np.maximum(seen, 1)


def cloud_looks(rgb, reference_blue_red):
    """(looks cloudy, has data): blue/red more than CLOUD_LOOK_EXCESS above the reference's (never
    where the reference is NaN), and the MDGM's data mask."""
    from mars_cloudmask_plugin.mdgm import has_data
    data = has_data(rgb)
    ratio = rgb[..., 2].astype(np.float32) / np.maximum(rgb[..., 0], 1)
    with np.errstate(invalid="ignore"):
        return data & (ratio - reference_blue_red > CLOUD_LOOK_EXCESS), data


def scored_pixels(sol):
    return (sol.reference != grid.NODATA) & sol.data


def training_set(paths, reference_dir, pixels, rng, ratios=True, clearsky=None, **chosen):
    """`pixels` scored pixels drawn evenly from the training sols: (features, labels)."""
    xs, ys = [], []
    for path in paths:
        sol, mdgm = load_sol(sol_name(path), reference_dir, path)
        if clearsky is not None:
            from mars_cloudmask_plugin.clearsky import check_season
            check_season(clearsky.info, sol)
        rows, cols = np.nonzero(scored_pixels(sol))
        pick = rng.choice(rows.size, min(rows.size, pixels // len(paths)), replace=False)
        xs.append(features(mdgm.rgb, ratios, clearsky, **chosen)[rows[pick], cols[pick]])
        ys.append(sol.reference[rows[pick], cols[pick]] == 1)
    return np.concatenate(xs), np.concatenate(ys)


def gbm_probability(classifier, sol, mdgm, ratios=True, clearsky=None, **chosen):
    """Global probability raster, -999 where the pixel is not scored."""
    probability = np.full(sol.reference.shape, grid.NODATA, np.float32)
    where = scored_pixels(sol)
    probability[where] = classifier.predict_proba(features(mdgm.rgb, ratios, clearsky, **chosen)[where])[:, 1]
    return probability


def load_clearsky(args, scratch):
    """The ClearSky of --clearsky, or of --clearsky-percentile built from every MDGM of the data's
    mdgm folder (cached per percentile under --clearsky-cache, else in `scratch`); None without either."""
    from mars_cloudmask_plugin.clearsky import folder_clearsky, read_clearsky
    if args.clearsky:
        return read_clearsky(args.clearsky)
    if args.clearsky_percentile is None:
        return None
    cache = Path(args.clearsky_cache or scratch) / f"p{args.clearsky_percentile:g}"
    started = time.time()
    info = folder_clearsky(args.data / "mdgm", cache, args.clearsky_percentile)
    print(f"clear-sky reference {info.label} ready in {time.time() - started:.0f} s")
    return read_clearsky(info.path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="also score this U-Net and the average of both probabilities")
    ap.add_argument("--pixels", type=int, default=2_000_000, help="training pixels drawn from days 01-14")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2].parent / "shared" / "data" / "P01")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--without-ratios", action="store_true", help="leave out the blue/red and green/red features")
    given = ap.add_mutually_exclusive_group()
    given.add_argument("--clearsky", type=Path, metavar="FILE", help="add features from this clear-sky reference")
    given.add_argument("--clearsky-percentile", type=float, metavar="P",
                       help="add features from a clear-sky reference at percentile P of every MDGM in the data's mdgm folder")
    ap.add_argument("--clearsky-cache", type=Path, metavar="DIR",
                    help="keep the --clearsky-percentile reference in DIR/pP (reused); default: a temporary folder")
    ap.add_argument("--clearsky-features", default=",".join(CLEARSKY_FEATURES), metavar="LIST",
                    help="comma list of the reference quantities to keep, among blue_red,blue (each with its "
                         "difference and box means); default: both")
    ap.add_argument("--without-latitude", action="store_true", help="leave out the latitude feature")
    ap.add_argument("--cloud-look-frequency", action="store_true",
                    help="with a reference: add how often each place looks cloudy in the data folder's imagery")
    ap.add_argument("--seasons", type=Path, metavar="DIR",
                    help="also report agreement with the published masks over the season sample below DIR")
    ap.add_argument("--seasons-json", type=Path, metavar="FILE", help="write that seasons report as JSON")
    args = ap.parse_args(argv)
    if args.seasons and (args.clearsky or args.cloud_look_frequency):
        ap.error("--seasons builds each subphase's own reference: use --clearsky-percentile, without "
                 "--clearsky or --cloud-look-frequency")
    args.clearsky_features = tuple(name.strip() for name in args.clearsky_features.split(",") if name.strip())
    unknown = sorted(set(args.clearsky_features) - set(CLEARSKY_FEATURES))
    if unknown or not args.clearsky_features:
        ap.error(f"--clearsky-features: {','.join(unknown) or 'empty'}; choose among {','.join(CLEARSKY_FEATURES)}")
    with tempfile.TemporaryDirectory(prefix="gbm-clearsky-") as scratch:
        return run(args, load_clearsky(args, scratch))


def run(args, clearsky):
    from sklearn.ensemble import HistGradientBoostingClassifier
    reference_dir = args.data / "cloudmask"
    if clearsky is not None:
        print(f"clear-sky features from {clearsky.info.label}")
    started = time.time()
    ratios = not args.without_ratios
    chosen = {"clearsky_features": args.clearsky_features, "latitude": not args.without_latitude}
    if args.cloud_look_frequency:
        if clearsky is None:
            raise SystemExit("--cloud-look-frequency needs a reference (--clearsky or --clearsky-percentile)")
        chosen["frequency"] = cloud_look_frequency(args.data / "mdgm", clearsky)
    x, y = training_set(select_mdgms(args.data / "mdgm", TRAIN_DAYS), reference_dir, args.pixels,
                        np.random.default_rng(args.seed), ratios, clearsky, **chosen)
    classifier = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.1, max_leaf_nodes=63,
                                                random_state=args.seed).fit(x, y)
    print(f"gradient boosting: {len(y):,} pixels of P01 days 01-14 ({y.mean():.1%} cloud), "
          f"{x.shape[1]} features, trained in {time.time() - started:.0f} s; threshold 0.5")
    unet = load_model(args.model) if args.model else None
    gbm_label = "gradient boosting" + (f" + clear sky p{clearsky.info.percentile:g}" if clearsky is not None else "")
    if clearsky is not None and set(args.clearsky_features) != set(CLEARSKY_FEATURES):
        gbm_label += " " + "+".join(args.clearsky_features)
    if args.without_latitude:
        gbm_label += " no lat"
    if args.cloud_look_frequency:
        gbm_label += " + cloud-look frequency"
    totals = {}
    for path in select_mdgms(args.data / "mdgm", VAL_DAYS):
        sol, mdgm = load_sol(sol_name(path), reference_dir, path)
        if clearsky is not None:
            from mars_cloudmask_plugin.clearsky import check_season
            check_season(clearsky.info, sol)
        gbm = gbm_probability(classifier, sol, mdgm, ratios, clearsky, **chosen)
        rows = {gbm_label: mask_from_probability(gbm, mdgm.rgb, 0.5)}
        if unet:
            net = probability_on_sol(path, reference_dir, unet, buffer=-4.0, tile_size=None)[1]
            rows[f"U-Net {unet.label} (c = -4)"] = mask_from_probability(net, mdgm.rgb, unet.threshold)
            mean = np.where((gbm == grid.NODATA) | (net == grid.NODATA), grid.NODATA, (gbm + net) / 2)
            rows["average of both probabilities"] = mask_from_probability(mean, mdgm.rgb, (0.5 + unet.threshold) / 2)
        for method, mask in rows.items():
            c = confusion(mask, sol.reference, sol.data)
            totals[method] = totals.get(method, Confusion()) + c
            m = c.metrics()
            print(f"{sol.name}  {method:40s} IoU {m['iou']:.3f}  F1 {m['f1']:.3f}  "
                  f"precision {m['precision']:.3f}  recall {m['recall']:.3f}  coverage {m['coverage']:.3f}")
    for method, c in totals.items():
        m = c.metrics()
        # four decimals pooled: the targets are 0.01 apart and the network's figures are printed so
        print(f"pooled     {method:40s} IoU {m['iou']:.4f}  F1 {m['f1']:.4f}  "
              f"precision {m['precision']:.3f}  recall {m['recall']:.3f}  coverage {m['coverage']:.3f}")
    if args.seasons:
        report_seasons(classifier, args, ratios, chosen, gbm_label)


def report_seasons(classifier, args, ratios, chosen, label):
    """The seasons report of the classifier over args.seasons (each sol with its folder's reference)."""
    from mars_cloudmask_plugin.archive import find_mdgms
    from mars_cloudmask_lab.commands import print_report
    from mars_cloudmask_lab.evaluate import clearsky_lookup
    from mars_cloudmask_lab.seasons import seasons_report
    with tempfile.TemporaryDirectory(prefix="gbm-seasons-") as scratch:
        clearsky_of = clearsky_lookup("auto" if args.clearsky_percentile is not None else None, scratch,
                                      args.clearsky_percentile)
        sols = []
        for path in find_mdgms(args.seasons):
            sols.append(gbm_season_sol(classifier, path, clearsky_of(path), ratios, **chosen))
            figures = sols[-1].tally.figures()
            agreement = figures["agreement_iou"]      # None: no published mask for this sol
            print(f"{sols[-1].sol}  cloud {figures['cloud_fraction']:.3f}  agreement "
                  f"{'-' if agreement is None else f'{agreement:.3f}'}", flush=True)
    print_report(*seasons_report(sols, label), None, args.seasons_json)


def gbm_season_sol(classifier, path, clearsky, ratios=True, **chosen):
    """One season sol masked by the classifier inside the pipeline's polar bounds (default c), with
    its counts against the published mask beside it (seasons.SeasonSol)."""
    from mars_cloudmask_plugin.crop import prediction_area
    from mars_cloudmask_plugin.mdgm import has_data
    from mars_cloudmask_plugin.postfilter import global_mask
    from mars_cloudmask_lab.seasons import PAPER_MASKS, SeasonSol, tally
    sol, mdgm = load_sol(sol_name(path), path.parent / PAPER_MASKS, path, required=False)
    area = prediction_area(mdgm.rgb, sol.ls, path=path)
    rows, cols = area.slices
    inside = has_data(mdgm.rgb[rows, cols])
    probability = np.zeros(area.shape, np.float32)
    probability[inside] = classifier.predict_proba(features(mdgm.rgb, ratios, clearsky, **chosen)[rows, cols][inside])[:, 1]
    counts = tally(global_mask(probability, area, mdgm.rgb, 0.5), sol.data, sol.reference)
    subphase = sol.name.split("_")[0]
    return SeasonSol(sol.name, subphase, find_sol(path).mars_year, sol.ls, str(path), counts)


if __name__ == "__main__":
    sys.exit(main())
