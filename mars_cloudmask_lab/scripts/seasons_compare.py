"""Models side by side over a Mars year, against the model issue's seasons targets.

    .venv/bin/python mars_cloudmask_lab/scripts/seasons_compare.py BASE.json OTHER.json [OTHER.json ...]

Each file is the `--json` of `mars-cloudmask seasons` on the same sols; BASE is the single-map
model's run. Prints a markdown table per subphase (cloud share and agreement with the published
masks for each model, and each other model's change in agreement from BASE), then per model:
the largest drop outside the dust season, the subphases within the allowed drop, the highest
dust-season cloud share of a subphase, and the dust season's share pooled over its sols (cloud
pixels over valid pixels, each sol weighted by its valid pixels).
"""
import argparse
import json
from pathlib import Path

from mars_cloudmask_lab.seasons import DUST_SEASON

ALLOWED_DROP = 0.03
DUST_CLOUD_LIMIT = 0.01


def read_seasons(path):
    """(model label, {subphase: its row}, the per-sol rows) of a seasons --json."""
    data = json.loads(Path(path).read_text())
    return data["model"], {row["subphase"]: row for row in data["subphases"]}, data["sols"]


def pooled_dust_cloud(sol_rows):
    """Cloud share of the dust season's valid pixels, over all its sols (every MDGM has the same
    number of pixels, so valid fractions weigh the sols)."""
    rows = [row for row in sol_rows if row["subphase"] in DUST_SEASON]
    valid = sum(row["valid_fraction"] for row in rows)
    return sum(row["cloud_fraction"] * row["valid_fraction"] for row in rows) / valid


def fmt(value):
    return "-" if value is None else f"{value:.3f}"


def change(other, base):
    if other is None or base is None:
        return None
    return other - base


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="seasons --json of the single-map model")
    parser.add_argument("others", type=Path, nargs="+", help="seasons --json of the models to compare")
    args = parser.parse_args(argv)
    base_label, base, base_sols = read_seasons(args.base)
    others = [read_seasons(path) for path in args.others]
    head = ["subphase", "sols", "Ls", "published cloud", f"{base_label} cloud", "agreement"]
    for label, _, _ in others:
        head += [f"{label} cloud", "agreement", "change"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * 3 + "---:|" * (len(head) - 3))
    for name, row in base.items():
        cells = [name, str(row["sols"]), row["ls_range"], fmt(row["paper_cloud_fraction"]),
                 fmt(row["cloud_fraction"]), fmt(row["agreement_iou"])]
        for _, rows, _ in others:
            theirs = rows.get(name, {})
            cells += [fmt(theirs.get("cloud_fraction")), fmt(theirs.get("agreement_iou")),
                      fmt(change(theirs.get("agreement_iou"), row["agreement_iou"]))]
        print("| " + " | ".join(cells) + " |")
    print()
    for label, rows, sol_rows in others:
        drops = {name: change(rows[name]["agreement_iou"], base[name]["agreement_iou"])
                 for name in base if name not in DUST_SEASON and name in rows}
        drops = {name: d for name, d in drops.items() if d is not None}
        worst = min(drops, key=drops.get)
        within = sorted(name for name, d in drops.items() if d >= -ALLOWED_DROP)
        dust = {name: rows[name]["cloud_fraction"] for name in sorted(DUST_SEASON) if name in rows}
        cloudiest = max(dust, key=dust.get)
        # when no subphase drops, "the largest drop is -0.039" read as a drop: say the smallest gain instead
        worst_change = (f"the largest drop in agreement is {-drops[worst]:.3f} ({worst})" if drops[worst] < 0 else
                        f"no drop in agreement, the smallest gain {drops[worst]:+.3f} ({worst})")
        print(f"{label}: outside the dust season {worst_change}; "
              f"{len(within)} of {len(drops)} subphases within {ALLOWED_DROP} ({', '.join(within)}); "
              f"dust-season cloud at most {dust[cloudiest]:.1%} ({cloudiest}; "
              f"{sum(v <= DUST_CLOUD_LIMIT for v in dust.values())} of {len(dust)} at or below {DUST_CLOUD_LIMIT:.0%}); "
              f"pooled over the dust season's sols {pooled_dust_cloud(sol_rows):.2%}")
    print(f"{base_label} (base): dust-season cloud pooled over its sols {pooled_dust_cloud(base_sols):.2%}")


if __name__ == "__main__":
    main()
