"""How a model behaves over a Mars year: per sol and per subphase, cloud fraction, valid fraction
and AGREEMENT with the published model's masks (Mengwall and Guzewich 2022). Those masks are
another model's output, not truth: agreement says where two models differ, never which is right.

The season sample's layout (../shared/data/year): Pxx/Pxx_dayNN_zequat.jpg, Pxx/Pxx_ls.txt and
Pxx/paper_masks/cloudmask_Pxx_dayNN.ncdf.
"""
from dataclasses import dataclass
from pathlib import Path

from mars_cloudmask_plugin import grid
from .evaluate import load_sol
from .metrics import Confusion, confusion, ratio
from mars_cloudmask_plugin.report import Column, markdown_table

PAPER_MASKS = "paper_masks"
DUST_SEASON = frozenset(f"P{n:02d}" for n in range(6, 13))    # P06-P12, Ls about 210-340: the model issue's dust season
AGREEMENT = ("agreement with the published model's masks (another model, not truth), on pixels where its mask "
             "is valid and the MDGM has data; our -999 there counts as clear; coverage = share of those "
             "pixels our mask covers")

_FIGURES = (Column("cloud_fraction", "cloud fraction", ".3f"), Column("valid_fraction", "valid fraction", ".3f"),
            Column("paper_cloud_fraction", "paper cloud fraction", ".3f"),
            Column("agreement_iou", "agreement IoU", ".3f"), Column("agreement_f1", "agreement F1", ".3f"),
            Column("agreement_coverage", "coverage", ".3f"))
SOL_COLUMNS = (Column("sol", "sol"), Column("mars_year", "MY"), Column("ls", "Ls", ".1f"), *_FIGURES)
SUBPHASE_COLUMNS = (Column("subphase", "subphase"), Column("sols", "sols", "d"), Column("mars_year", "MY"),
                    Column("ls_range", "Ls"), *_FIGURES)


@dataclass
class Tally:
    """Pixel counts that pool over sols: ours and the paper's cloud and valid pixels, and agreement."""
    cloud: int = 0
    valid: int = 0
    paper_cloud: int = 0
    paper_valid: int = 0
    globe: int = 0
    agreement: Confusion = None    # None: no paper mask

    def __add__(self, other):
        agreement = [c for c in (self.agreement, other.agreement) if c is not None]
        return Tally(self.cloud + other.cloud, self.valid + other.valid, self.paper_cloud + other.paper_cloud,
                     self.paper_valid + other.paper_valid, self.globe + other.globe,
                     sum(agreement, Confusion()) if agreement else None)

    def figures(self):
        div = ratio
        m = self.agreement.metrics() if self.agreement is not None else {}
        return {"cloud_fraction": div(self.cloud, self.valid), "valid_fraction": div(self.valid, self.globe),
                "paper_cloud_fraction": div(self.paper_cloud, self.paper_valid) if m else None,
                "agreement_iou": m.get("iou"), "agreement_f1": m.get("f1"), "agreement_coverage": m.get("coverage"),
                "agreement_pixels": m.get("scored_pixels")}


@dataclass
class SeasonSol:
    sol: str
    subphase: str
    mars_year: int
    ls: float
    source: str
    tally: Tally

    def row(self):
        return {"level": "sol", "subphase": self.subphase, "sol": self.sol, "mars_year": self.mars_year,
                "ls": self.ls, **self.tally.figures(), "source": self.source}


def tally(mask, data, paper=None):
    """Counts of one sol: `mask` ours (Int16, 1/0/-999), `data` where the MDGM has data, `paper` the
    published model's mask or None."""
    valid = mask != grid.NODATA
    out = Tally(int((mask == 1).sum()), int(valid.sum()), globe=mask.size)
    if paper is not None:
        out.paper_cloud, out.paper_valid = int((paper == 1).sum()), int((paper != grid.NODATA).sum())
        out.agreement = confusion(mask, paper, data)
    return out


def season_sol(mdgm_path, model, paper_dir=PAPER_MASKS, **predict):
    """Predict one MDGM in memory and compare it with the paper's mask in mdgm_dir/`paper_dir`
    (when there): (SeasonSol, MaskResult). `predict`: make_cloudmask's keyword arguments."""
    from mars_cloudmask_plugin.archive import sol_name
    from mars_cloudmask_plugin.pipeline import make_cloudmask
    mdgm_path = Path(mdgm_path)
    sol, mdgm = load_sol(sol_name(mdgm_path), mdgm_path.parent / paper_dir, mdgm_path, required=False)
    result = make_cloudmask(mdgm, model, **predict)
    counts = tally(result.mask, sol.data, sol.reference)
    return SeasonSol(result.sol.name, result.sol.name.split("_")[0], result.sol.mars_year, result.sol.ls,
                     str(mdgm_path), counts), result


def subphase_rows(sols):
    """One row per subphase (in the order met), counts pooled over its sols."""
    groups = {}
    for s in sols:
        groups.setdefault(s.subphase, []).append(s)
    rows = []
    for subphase, members in groups.items():
        pooled = sum((s.tally for s in members), Tally())
        ls = [s.ls for s in members]
        years = "/".join(dict.fromkeys(str(s.mars_year) for s in members))
        ls_range = f"{min(ls):.1f}" if len(ls) == 1 else f"{min(ls):.1f}-{max(ls):.1f}"
        rows.append({"level": "subphase", "subphase": subphase, "sols": len(members), "mars_year": years,
                     "ls_min": min(ls), "ls_max": max(ls), "ls_range": ls_range, **pooled.figures()})
    return rows


def seasons_report(sols, model_label):
    """(markdown text, CSV rows, JSON data) of a seasons run."""
    sol_rows = [s.row() for s in sols]
    sub_rows = subphase_rows(sols)
    text = "\n\n".join([f"Per sol ({model_label}; {AGREEMENT}):", markdown_table(sol_rows, SOL_COLUMNS),
                        "Per subphase (counts pooled over its sols):", markdown_table(sub_rows, SUBPHASE_COLUMNS)])
    data = {"model": model_label, "agreement": AGREEMENT, "sols": sol_rows, "subphases": sub_rows}
    return text, sol_rows + sub_rows, data
