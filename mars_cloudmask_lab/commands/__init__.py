"""The lab's CLI subcommands (train, ensemble, evaluate, seasons, benchmark). Each registers itself into
`mars-cloudmask` through the entry-point group `mars_cloudmask.commands` (pyproject.toml)."""
import sys

from mars_cloudmask_plugin.report import write_csv, write_json


def print_report(table, rows, data, csv_path=None, json_path=None):
    """Print a markdown table on stdout (so it pastes as it is); write its rows as CSV and `data` as
    JSON where asked, saying so on stderr."""
    print(table)
    if csv_path:
        print(f"wrote {write_csv(csv_path, rows)}", file=sys.stderr)
    if json_path:
        print(f"wrote {write_json(json_path, data)}", file=sys.stderr)


def add_clearsky_option(group):
    """--clearsky auto|FILE: the clear-sky reference a reference-aware --model takes (evaluate, seasons)."""
    from pathlib import Path
    group.add_argument("--clearsky", metavar="auto|FILE",
                       help="for a reference-aware model: 'auto' = the reference of each MDGM's own folder (all its "
                            "sols' imagery; built once into --clearsky-cache), or one reference FILE for every sol")
    group.add_argument("--clearsky-cache", type=Path, default=Path("runs/clearsky_cache"), metavar="DIR",
                       help="where 'auto' keeps the references it builds (default runs/clearsky_cache)")


def clearsky_from(args):
    """mdgm path -> ClearSky (or None) from add_clearsky_option's flags."""
    from ..evaluate import clearsky_lookup
    return clearsky_lookup(args.clearsky, args.clearsky_cache)
