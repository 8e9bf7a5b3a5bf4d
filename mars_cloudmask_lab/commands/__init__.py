"""The lab's CLI subcommands (train, evaluate, seasons, benchmark). Each registers itself into
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
