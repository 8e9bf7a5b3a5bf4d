"""Scoring cloud masks against reference masks, side by side with the naive blue/red baseline.

Scored pixels: the reference is valid (not -999) AND the MDGM has data (`mdgm.has_data`). A
prediction of -999 on a scored pixel counts as clear (a miss where the reference says cloud), and
the share of scored pixels the prediction does cover is its coverage (see metrics.confusion).

Predictions come from files (our GeoTIFF or NetCDF masks, or any NetCDF in the reference layout
such as the published model's masks) or straight from a model run in memory on MDGMs.
"""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mars_cloudmask_plugin.archive import find_sol, mdgm_path_for, reference_path_for, sol_name
from mars_cloudmask_plugin.bounds import DEFAULT_BUFFER
from mars_cloudmask_plugin.crop import prediction_area
from mars_cloudmask_plugin.errors import CloudmaskError
from mars_cloudmask_plugin.mdgm import has_data, read_mdgm
from mars_cloudmask_plugin.postfilter import global_mask
from mars_cloudmask_plugin.raster import read_mask, read_netcdf_mask
from mars_cloudmask_plugin.report import Column, markdown_table

from .metrics import Confusion, confusion

BASELINE = "blue/red baseline"
BASELINE_RATIO = 0.8
MDGM_NEEDED = "scoring needs it to know which pixels have data (pass --mdgm-dir)"
SCORING = ("pixels where the reference is valid and the MDGM has data; a prediction of -999 there "
           "counts as clear (a miss); coverage = share of those pixels the prediction covers")

COLUMNS = (Column("method", "method"), Column("sol", "sol"), Column("ls", "Ls", ".1f"),
           Column("accuracy", "accuracy", ".3f"), Column("precision", "precision", ".3f"),
           Column("recall", "recall", ".3f"), Column("f1", "F1", ".3f"), Column("iou", "IoU", ".3f"),
           Column("coverage", "coverage", ".3f"), Column("scored_pixels", "scored px", "d"))


def baseline_mask(rgb, ls, buffer=DEFAULT_BUFFER, ratio=BASELINE_RATIO, path=None):
    """The naive blue/red threshold as a mask on the global grid: cloud where blue / red > `ratio`,
    inside the same prediction area as the model (polar bounds, trimmed edge columns) and with the
    same post-filter (-999 where the MDGM has no data)."""
    area = prediction_area(rgb, ls, buffer, path)
    rgb_area = rgb[area.slices].astype(np.float64)
    # blue > ratio * red is blue / red > ratio without dividing by a zero red (-999 anyway).
    cloud = rgb_area[..., 2] > ratio * rgb_area[..., 0]
    return global_mask(cloud.astype(np.float32), area, rgb, threshold=0.5)


@dataclass
class SolData:
    """What scoring one sol needs besides the prediction."""
    name: str
    ls: float
    reference: np.ndarray      # Int16 1/0/-999, north row first; None when not required and absent
    data: np.ndarray           # bool: the MDGM has data


def load_sol(name, reference_dir, mdgm_path=None, mdgm_dir=None, ls=None, required=True):
    """(SolData, Mdgm) of one sol: its reference mask in `reference_dir` (an error when `required`
    and absent), its MDGM (`mdgm_path`, else found in `mdgm_dir`) and Ls (the Pxx_ls.txt beside
    the MDGM, else `ls`)."""
    reference_dir = Path(reference_dir)
    ref_path = reference_path_for(name, reference_dir)
    if ref_path is None and required:
        raise CloudmaskError(reference_dir, f"no reference mask for {name} "
                                            f"(cloudmask_{name.replace('_', '')}.ncdf or cloudmask_{name}.ncdf)")
    mdgm = read_mdgm(mdgm_path or mdgm_path_for(name, mdgm_dir, MDGM_NEEDED))
    try:
        ls = find_sol(mdgm.path).ls
    except CloudmaskError:
        pass  # Ls only matters for the baseline's polar bounds: checked there
    reference = None if ref_path is None else read_netcdf_mask(ref_path)[0]
    return SolData(name, ls, reference, has_data(mdgm.rgb)), mdgm


def probability_on_sol(path, reference_dir, model, buffer=DEFAULT_BUFFER, tile_size="auto", clearsky=None):
    """(SolData, global probability) of one archive MDGM: what scoring a probability against its
    reference needs (threshold sweeps, error analysis). Ls must come from the Pxx_ls.txt."""
    from mars_cloudmask_plugin.pipeline import probability_for
    from mars_cloudmask_plugin.postfilter import global_probability
    sol, mdgm = load_sol(sol_name(path), reference_dir, path)
    prob, area, _ = probability_for(mdgm, find_sol(mdgm.path).ls, model, buffer=buffer, tile_size=tile_size,
                                    clearsky=clearsky)
    return sol, global_probability(prob, area, mdgm.rgb)


def clearsky_lookup(spec, cache_dir, percentile=None, min_sols=None):
    """mdgm path -> the ClearSky a reference-aware model gets for it: None without `spec`, the file
    `spec` for every sol, or with spec "auto" the reference of the MDGM's own archive folder (all its
    sols' imagery, never labels), built once into `cache_dir`."""
    from mars_cloudmask_plugin.clearsky import folder_clearsky, read_clearsky
    from mars_cloudmask_plugin.options import AUTO_REFERENCE, DEFAULT_MIN_SOLS, DEFAULT_PERCENTILE
    if not spec:
        return lambda path: None
    if spec != AUTO_REFERENCE:
        one = read_clearsky(spec)
        return lambda path: one
    loaded = {}

    def for_mdgm(path):
        folder = Path(path).resolve().parent
        if folder not in loaded:
            info = folder_clearsky(folder, cache_dir, percentile or DEFAULT_PERCENTILE, min_sols or DEFAULT_MIN_SOLS)
            loaded.clear()                      # one folder's reference in memory at a time
            loaded[folder] = read_clearsky(info.path)
        return loaded[folder]
    return for_mdgm


def default_mdgm_dir(reference_dir):
    """The archive layout of ../shared/data/P01: cloudmask/ and mdgm/ side by side."""
    return Path(reference_dir).absolute().parent / "mdgm"


@dataclass
class Score:
    method: str
    sol: str
    ls: float
    source: str            # the prediction file, or the MDGM a model predicted in memory
    confusion: Confusion

    def row(self):
        return {"method": self.method, "sol": self.sol, "ls": self.ls, **self.confusion.metrics(),
                "source": self.source}


@dataclass
class Evaluation:
    """Per-sol scores of one or more methods (a model, prediction files, the baseline)."""
    scores: list = field(default_factory=list)

    def add(self, method, sol, mask, source):
        """Score `mask` for `sol` (a SolData) under `method`."""
        if any(s.method == method and s.sol == sol.name for s in self.scores):
            raise CloudmaskError(source, f"a second {method!r} prediction for {sol.name}: give one per sol")
        score = Score(method, sol.name, sol.ls, str(source), confusion(mask, sol.reference, sol.data))
        self.scores.append(score)
        return score

    def add_baseline(self, sol, mdgm, buffer=DEFAULT_BUFFER):
        if sol.ls is None:
            raise CloudmaskError(mdgm.path, f"the {BASELINE} needs the polar bounds of {sol.name}: "
                                            "no solar longitude (no line in a *_ls.txt beside the MDGM)")
        return self.add(BASELINE, sol, baseline_mask(mdgm.rgb, sol.ls, buffer, path=mdgm.path), mdgm.path)

    @property
    def methods(self):
        """Methods in the order they came, the baseline last."""
        names = list(dict.fromkeys(s.method for s in self.scores))
        return sorted(names, key=lambda m: m == BASELINE)

    def pooled(self, method):
        return sum((s.confusion for s in self.scores if s.method == method), Confusion())

    def rows(self):
        """Per-sol rows (sol by sol, methods side by side), then one pooled row per method."""
        order = {m: i for i, m in enumerate(self.methods)}
        per_sol = [s.row() for s in sorted(self.scores, key=lambda s: (s.sol, order[s.method]))]
        pooled = [{"method": m, "sol": "pooled", "ls": None, **self.pooled(m).metrics(), "source": ""}
                  for m in self.methods]
        return per_sol + pooled

    def table(self):
        return markdown_table(self.rows(), COLUMNS)

    def as_json(self, **context):
        return {**context, "scoring": SCORING,
                "methods": [{"method": m, "pooled": self.pooled(m).metrics(),
                             "sols": [s.row() for s in self.scores if s.method == m]} for m in self.methods]}


def evaluate_files(paths, reference_dir, mdgm_dir=None, baseline=False, buffer=DEFAULT_BUFFER):
    """Score prediction files against the reference masks in `reference_dir`; the MDGMs (which
    pixels have data) come from `mdgm_dir`, by default reference_dir/../mdgm."""
    mdgm_dir = Path(mdgm_dir) if mdgm_dir else default_mdgm_dir(reference_dir)
    evaluation, sols = Evaluation(), {}
    for path in paths:
        prediction = read_mask(path)
        sol = sols.get(prediction.sol)
        if sol is None:
            sol, mdgm = load_sol(prediction.sol, reference_dir, mdgm_dir=mdgm_dir, ls=prediction.ls)
            sols[prediction.sol] = sol
            if baseline:
                evaluation.add_baseline(sol, mdgm, buffer)
        evaluation.add(prediction.method, sol, prediction.mask, prediction.path)
    return evaluation


def evaluate_mdgms(mdgm_paths, reference_dir, model=None, baseline=False, buffer=DEFAULT_BUFFER,
                   tiling="seamless", tile_size="model", threshold=None, clearsky_of=None):
    """Score MDGMs straight from the archive: `model` (a CloudModel) predicts each in memory, the
    baseline too when asked (the baseline alone when `model` is None); nothing is written.
    `clearsky_of(mdgm path)` gives the clear-sky reference a reference-aware model needs."""
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    evaluation = Evaluation()
    for path in mdgm_paths:
        sol, mdgm = load_sol(sol_name(path), reference_dir, path)
        if model is not None:
            result = make_cloudmask(mdgm, model, buffer=buffer, tiling=tiling, tile_size=tile_size,
                                    threshold=threshold, clearsky=clearsky_of(path) if clearsky_of else None)
            evaluation.add(model.label, sol, result.mask, mdgm.path)
        if baseline:
            evaluation.add_baseline(sol, mdgm, buffer)
    return evaluation
