"""Scoring masks against reference masks (Wang and Gonzalez Abad 2021 layout).

Scored pixels: reference valid (not -999) AND the MDGM has data. A predicted -999 on a scored
pixel counts as "clear" (a miss when the reference says cloud); the share of scored pixels that
the prediction does cover is reported as coverage.
"""
from dataclasses import dataclass, asdict
from pathlib import Path

import numpy as np

from . import grid
from .errors import CloudmaskError


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    covered: int = 0   # scored pixels the prediction did not leave at -999

    def __add__(self, other):
        return Confusion(*(a + b for a, b in zip(astuple(self), astuple(other))))

    @property
    def scored(self):
        return self.tp + self.fp + self.fn + self.tn

    def metrics(self):
        n, div = self.scored, ratio
        precision, recall = div(self.tp, self.tp + self.fp), div(self.tp, self.tp + self.fn)
        return {"accuracy": div(self.tp + self.tn, n), "precision": precision, "recall": recall,
                "f1": div(2 * self.tp, 2 * self.tp + self.fp + self.fn),
                "iou": div(self.tp, self.tp + self.fp + self.fn),
                "coverage": div(self.covered, n), "scored_pixels": n, **asdict(self)}


def ratio(a, b):
    """a / b, NaN when b is 0 (a figure over no pixels)."""
    return a / b if b else float("nan")


def astuple(c):
    return (c.tp, c.fp, c.fn, c.tn, c.covered)


def confusion(prediction, reference, data_mask):
    """Counts for an Int16 prediction (1/0/-999) against a reference (1/0/-999), both north-up."""
    scored = (reference != grid.NODATA) & data_mask
    truth = reference == 1
    pred = prediction == 1
    return Confusion(tp=int((scored & truth & pred).sum()), fp=int((scored & ~truth & pred).sum()),
                     fn=int((scored & truth & ~pred).sum()), tn=int((scored & ~truth & ~pred).sum()),
                     covered=int((scored & (prediction != grid.NODATA)).sum()))


def confusions_by_threshold(probability, reference, data_mask, thresholds):
    """A Confusion per threshold for a global probability raster (-999 where nothing was predicted,
    scored as clear like a -999 mask pixel): one pass over the data instead of one mask per threshold."""
    scored = (reference != grid.NODATA) & data_mask
    truth = reference == 1
    covered = probability != grid.NODATA
    p_cloud, p_clear = probability[scored & truth & covered], probability[scored & ~truth & covered]
    n_cloud, n_clear, n_covered = int((scored & truth).sum()), int((scored & ~truth).sum()), int((scored & covered).sum())
    out = []
    for t in thresholds:
        tp, fp = int((p_cloud >= t).sum()), int((p_clear >= t).sum())
        out.append(Confusion(tp=tp, fp=fp, fn=n_cloud - tp, tn=n_clear - fp, covered=n_covered))
    return out


def binary_mask(values, path=None, nodata=grid.NODATA):
    """Int16 1 cloud / 0 clear / -999 ignore from a stored mask: `nodata`, NaN and negative values
    are ignored, values > 0 are cloud (reference masks store a brightness 1..255 there).
    Fractional values mean a probability raster, not a mask: a CloudmaskError says so."""
    values = np.asarray(values)
    ignore = ~np.isfinite(values) | (values < 0)
    if nodata is not None:
        ignore |= values == nodata
    kept = values[~ignore]
    if values.dtype.kind == "f" and np.any(kept != np.round(kept)):
        raise CloudmaskError(path, "holds fractional values: a probability raster, not a 1/0/-999 cloud mask")
    out = (values > 0).astype(np.int16)
    out[ignore] = grid.NODATA
    return out


def read_netcdf_mask(path):
    """(mask, attributes) of a cloud-mask NetCDF (reference masks, the paper's masks, ours): the
    mask as Int16 on the global grid, north row first (1 cloud, 0 clear, -999 ignore)."""
    values, attrs = read_netcdf_values(path)
    return binary_mask(values, path), attrs


def read_netcdf_values(path):
    """(values, attributes) of a cloud-mask NetCDF as stored (float32; the reference masks keep a
    brightness number 1..255 for cloud), on the global grid, north row first: files that store
    latitude ascending (all of these do) are flipped."""
    import netCDF4
    path = Path(path)
    try:
        with netCDF4.Dataset(path) as ds:
            ds.set_auto_mask(False)
            values = np.asarray(ds.variables["cloudmask"][:], np.float32)
            lat = np.asarray(ds.variables["latitude"][:], np.float64)
            attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
    except (OSError, KeyError) as exc:
        raise CloudmaskError(path, f"is not a cloud-mask NetCDF with 'cloudmask' and 'latitude' ({exc})") from None
    if values.shape != (grid.HEIGHT, grid.WIDTH):
        raise CloudmaskError(path, f"cloudmask is {values.shape}, not on the {grid.HEIGHT} x {grid.WIDTH} grid")
    if lat[0] < lat[-1]:
        values = values[::-1]
    return values, attrs


def read_reference(path):
    """A reference mask as Int16 on the global grid, north row first: 1 cloud (value > 0),
    0 clear, -999 ignore. Reference files store latitude ascending, so rows are flipped."""
    return read_netcdf_mask(path)[0]


def reference_path_for(sol_name, reference_dir):
    """cloudmask_P01day10.ncdf (reference naming) or cloudmask_P01_day10.ncdf (paper masks)."""
    reference_dir = Path(reference_dir)
    for candidate in (f"cloudmask_{sol_name.replace('_', '')}.ncdf", f"cloudmask_{sol_name}.ncdf",
                      f"cloudmask_{sol_name}.nc"):
        if (reference_dir / candidate).exists():
            return reference_dir / candidate
    return None
