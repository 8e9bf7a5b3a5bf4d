"""Tables for people (markdown, so they paste into a model card) and for programs (CSV, JSON),
shared by `evaluate` and `seasons`. Files are written atomically like every other output."""
import csv
import json
import math
from dataclasses import dataclass

from .writers import atomic_output


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    fmt: str = ""        # format spec for numbers, e.g. ".3f"


def cell(value, fmt=""):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, fmt) if fmt and isinstance(value, (int, float)) else str(value)


def markdown_table(rows, columns):
    """A GitHub-flavoured markdown table of dict rows; numbers right-aligned."""
    header = "| " + " | ".join(c.header for c in columns) + " |"
    align = "|" + "|".join("---:" if c.fmt else "---" for c in columns) + "|"
    body = ["| " + " | ".join(cell(row.get(c.key), c.fmt) for c in columns) + " |" for row in rows]
    return "\n".join([header, align, *body])


def jsonable(value):
    """NaN and infinities become null (JSON has no NaN); containers are walked."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def write_json(path, data):
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(jsonable(data), indent=2) + "\n")
    return path


def write_csv(path, rows):
    """Dict rows to CSV; the header is the union of the rows' keys in first-seen order."""
    keys = list(dict.fromkeys(k for row in rows for k in row))
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, keys)
            writer.writeheader()
            writer.writerows(rows)
    return path
