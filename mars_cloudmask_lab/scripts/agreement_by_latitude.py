"""Where models part from the published masks: agreement IoU with them per subphase and per 15-degree
latitude band, for the single-map model and any reference-aware models, on the same sols.

    .venv/bin/python mars_cloudmask_lab/scripts/agreement_by_latitude.py /tmp/heldout P13,P14 \\
        models/mars_cloudmask_unet_clearsky.keras runs/nolat_recipe/final.keras [--clearsky-cache DIR]

YEAR_DIR is laid out as ../shared/data/year (Pxx/ with MDGMs, Pxx_ls.txt and paper_masks/). Each
subphase's reference is that of its folder (built once into --clearsky-cache, as `seasons
--clearsky auto` does). The published masks are another model's output, not truth. Prints tables;
writes only the reference cache.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

BAND_DEGREES = 15


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("year_dir", type=Path)
    ap.add_argument("subphases", help="comma-separated, e.g. P13,P14")
    ap.add_argument("models", nargs="*", type=Path, help="reference-aware (or other) models beside the single-map one")
    ap.add_argument("--clearsky-cache", type=Path, default=Path("runs/clearsky_cache"))
    args = ap.parse_args(argv)

    from mars_cloudmask_lab.evaluate import clearsky_lookup
    from mars_cloudmask_plugin.model import load_model
    models = {"single-map": load_model("models/mars_cloudmask_unet.keras")}
    models.update({path.stem if path.stem != "final" else path.parent.name: load_model(path) for path in args.models})
    clearsky_of = clearsky_lookup("auto", args.clearsky_cache)
    for subphase in args.subphases.split(","):
        counts = agreement_counts(sorted((args.year_dir / subphase).glob("*_zequat.jpg")), models, clearsky_of)
        print(f"\n{subphase}: agreement IoU with the published masks (ours-only / published-only pixels)")
        bands = sorted({band for (name, band), c in counts.items() if c.scored},
                       key=lambda band: (band == "all", float(band.split("..")[0]) if band != "all" else 0.0))
        print("| band | " + " | ".join(models) + " |\n|---|" + "---:|" * len(models))
        for band in bands:
            cells = [_cell(counts[name, band]) for name in models]
            print(f"| {band} | " + " | ".join(cells) + " |")


def agreement_counts(paths, models, clearsky_of):
    """{(model name, band label): Confusion against the published masks} pooled over the sols; band
    "all" is the whole map."""
    from mars_cloudmask_lab.metrics import Confusion, confusions_by_threshold
    from mars_cloudmask_plugin.archive import find_sol
    from mars_cloudmask_plugin.grid import latitude_of_row
    from mars_cloudmask_plugin.mdgm import has_data, read_mdgm
    from mars_cloudmask_plugin.pipeline import probability_for
    from mars_cloudmask_plugin.postfilter import global_probability
    from mars_cloudmask_plugin.raster import read_netcdf_mask
    counts = {}
    for path in paths:
        mdgm = read_mdgm(path)
        sol = find_sol(mdgm.path)
        published = read_netcdf_mask(path.parent / "paper_masks" / f"cloudmask_{sol.name}.ncdf")[0]
        data = has_data(mdgm.rgb)
        latitude = latitude_of_row(np.arange(data.shape[0]))[:, None]
        bands = {"all": np.ones_like(data)}
        for south in range(-90, 90, BAND_DEGREES):
            bands[f"{south}..{south + BAND_DEGREES}"] = (latitude >= south) & (latitude < south + BAND_DEGREES)
        for name, model in models.items():
            clearsky = clearsky_of(path) if model.needs_clearsky else None
            prob, area, _ = probability_for(mdgm, sol.ls, model, buffer=-4, tile_size="auto", clearsky=clearsky)
            prob = global_probability(prob, area, mdgm.rgb)
            for band, rows in bands.items():
                band_counts = confusions_by_threshold(prob, published, data & rows, [model.threshold])[0]
                counts[name, band] = counts.get((name, band), Confusion()) + band_counts
    return counts


def _cell(c):
    return f"{c.metrics()['iou']:.3f} ({c.fp} / {c.fn})" if c.scored else "-"


if __name__ == "__main__":
    sys.exit(main())
