"""Scoring masks against reference masks (Wang and Gonzalez Abad 2021 layout).

Scored pixels: reference valid (not -999) AND the MDGM has data. A predicted -999 on a scored
pixel counts as "clear" (a miss when the reference says cloud); the share of scored pixels that
the prediction does cover is reported as coverage.
"""
from dataclasses import asdict, dataclass

from mars_cloudmask_plugin import grid


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
