"""The distributed MDGM archive: where MDGMs sit, what their sols are called, where their solar
longitude is written, and how the reference masks are named. The one home of these conventions:
batch runs, evaluation, training and the analyses all find files through here.

Layout (Harvard Dataverse doi:10.7910/DVN/U3766S): phase/subphase folders holding
`Pxx_dayNN_zequat.jpg` and one `Pxx_ls.txt` per subphase (lines `P01_day10  28  136.500`: sol
name, Mars year, Ls). Reference masks (Wang and Gonzalez Abad 2021) are `cloudmask_P01day10.ncdf`;
the published model's masks `cloudmask_P02_day05.ncdf`.
"""
import re
from dataclasses import dataclass
from pathlib import Path

from .bounds import check_ls
from .errors import CloudmaskError

MDGM_PATTERNS = ("*_zequat.jpg", "*_zequat.jpeg", "*_zequat.JPG")
LS_TABLE_PATTERN = "*_ls.txt"
# A sol: subphase (P01, B05 ...) and day, with or without the underscore (reference masks drop it).
SOL_PATTERN = re.compile(r"([A-Z]\d+)_?(day\d+)", re.IGNORECASE)
REFERENCE_NAMES = ("cloudmask_{compact}.ncdf", "cloudmask_{sol}.ncdf", "cloudmask_{sol}.nc")


@dataclass(frozen=True)
class Sol:
    """Identity and season of one MDGM."""
    name: str             # e.g. "P01_day10"
    ls: float             # solar longitude, degrees
    mars_year: int | None


def _canonical(match):
    return f"{match.group(1).upper()}_{match.group(2).lower()}"


def sol_name(path):
    """'P01_day10' from '.../P01_day10_zequat.jpg'; the file stem when it does not start with a sol."""
    stem = Path(path).stem
    m = SOL_PATTERN.match(stem)
    return _canonical(m) if m else stem


def sol_in_name(name):
    """'P01_day15' from any name holding a sol (P01_day15_zequat_cloudmask.tif, cloudmask_P01day15.ncdf,
    cloudmask_P02_day05.ncdf); None when it holds none."""
    m = SOL_PATTERN.search(Path(str(name)).name)
    return _canonical(m) if m else None


def subphase_of(sol):
    """'P01' of 'P01_day10'."""
    return sol.split("_")[0]


def day_names(prefix, spec):
    """'01-14' or '1,3,5' -> ['P01_day01', ...]; ValueError for anything else."""
    days = []
    for part in str(spec).split(","):
        if "-" in part:
            a, b = part.split("-")
            days.extend(range(int(a), int(b) + 1))
        elif part.strip():
            days.append(int(part))
    return [f"{prefix}_day{d:02d}" for d in days]


def _mdgms_in(folder, recursive):
    glob = folder.rglob if recursive else folder.glob
    return sorted({p for pattern in MDGM_PATTERNS for p in glob(pattern)})


def find_mdgms(root):
    """MDGMs below `root` (the archive layout: phase/subphase folders), sorted."""
    root = Path(root)
    if not root.is_dir():
        raise CloudmaskError(root, "archive folder not found")
    return _mdgms_in(root, recursive=True)


def select_mdgms(mdgm_dir, days=None):
    """The MDGMs in `mdgm_dir`, sorted; with `days` (e.g. '15-18' or '1,3,5-7') only those days."""
    mdgm_dir = Path(mdgm_dir)
    if not mdgm_dir.is_dir():
        raise CloudmaskError(mdgm_dir, "MDGM folder not found")
    paths = _mdgms_in(mdgm_dir, recursive=False)
    if days:
        try:
            paths = [p for p in paths if sol_name(p) in day_names(subphase_of(sol_name(p)), days)]
        except ValueError:
            raise CloudmaskError(None, f"days {days!r}: give day numbers like 15-18 or 1,3,5-7") from None
    if not paths:
        raise CloudmaskError(mdgm_dir, f"no MDGMs (*_zequat.jpg){f' for days {days}' if days else ''}")
    return paths


def mdgm_path_for(sol, mdgm_dir, why=""):
    """The MDGM of `sol` in `mdgm_dir` (archive naming, e.g. P01_day15_zequat.jpg); `why` completes
    the error when it is missing."""
    mdgm_dir = Path(mdgm_dir)
    for pattern in MDGM_PATTERNS:
        candidate = mdgm_dir / pattern.replace("*", sol)
        if candidate.is_file():
            return candidate
    raise CloudmaskError(mdgm_dir / f"{sol}_zequat.jpg", f"MDGM not found{': ' + why if why else ''}")


def reference_path_for(sol, reference_dir):
    """cloudmask_P01day10.ncdf (reference naming) or cloudmask_P01_day10.ncdf (paper masks) in
    `reference_dir`; None when neither exists."""
    reference_dir = Path(reference_dir)
    for pattern in REFERENCE_NAMES:
        candidate = reference_dir / pattern.format(sol=sol, compact=sol.replace("_", ""))
        if candidate.exists():
            return candidate
    return None


def _table_lines(table_path):
    """(line number, fields) of each non-blank line; UTF-8 with or without a BOM (else Latin-1),
    any line ending, spaces or tabs between fields."""
    raw = Path(table_path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.replace("\ufeff", "").split()
        if fields and not fields[0].startswith("#"):
            yield number, fields


def _parse_row(table_path, number, fields):
    """(mars_year, ls) of one line, or a CloudmaskError saying what is wrong with it."""
    where = f"line {number}"
    if len(fields) < 3:
        return CloudmaskError(table_path, f"{where} is malformed: {' '.join(fields)!r} has {len(fields)} field(s); "
                                          "expected NAME MARS_YEAR LS, e.g. P01_day10  28  136.500")
    try:
        year = int(fields[1])
    except ValueError:
        return CloudmaskError(table_path, f"{where} is malformed: Mars year {fields[1]!r} is not a whole number")
    try:
        ls = float(fields[2])
    except ValueError:
        comma = " (a decimal comma? write 140.8)" if "," in fields[2] else ""
        return CloudmaskError(table_path, f"{where} is malformed: Ls {fields[2]!r} is not a number{comma}")
    return year, ls


def read_ls_table(table_path):
    """Rows of an archive `Pxx_ls.txt` (name, Mars year, Ls) as {name: (mars_year, ls)}; malformed
    lines are left out (find_sol reports them for the sol they name)."""
    table = {}
    for number, fields in _table_lines(table_path):
        row = _parse_row(table_path, number, fields)
        if not isinstance(row, CloudmaskError):
            table.setdefault(fields[0], row)
    return table


def table_row_for(table_path, name):
    """(mars_year, ls) of sol `name` in one table, None when it has no line for it. A malformed line
    for the sol, or two lines with different values, is an error naming the file and line."""
    found = None
    for number, fields in _table_lines(table_path):
        if fields[0].strip().upper() != name.upper():
            continue
        row = _parse_row(table_path, number, fields)
        if isinstance(row, CloudmaskError):
            raise row
        if found is not None and found[1] != row:
            raise CloudmaskError(table_path, f"line {number} gives {name} Mars year {row[0]}, Ls {row[1]:g}, but "
                                             f"line {found[0]} gives Mars year {found[1][0]}, Ls {found[1][1]:g}: "
                                             "keep one line per sol")
        found = found or (number, row)
    return None if found is None else found[1]


def find_sol(path, ls=None):
    """The Sol of an MDGM: Ls from the `*_ls.txt` beside it, or `ls` when given (it wins).

    Without either, a CloudmaskError says how to pass Ls.
    """
    path = Path(path)
    name = sol_name(path)
    try:
        year, table_ls = _lookup_ls_table(path, name)
    except CloudmaskError:
        if ls is None:
            raise
        year, table_ls = None, None       # Ls given: a broken table line does not stop the run
    if ls is not None:
        return Sol(name, check_ls(ls, path), year)
    if table_ls is None:
        raise CloudmaskError(path, f"no solar longitude: no '{name}' line in a *_ls.txt beside it;"
                                   " add that line, or pass Ls with --ls DEG (predict, batch) or the Ls parameter (QGIS)")
    return Sol(name, check_ls(table_ls, path), year)


def _lookup_ls_table(path, name):
    return find_sol_in_tables(name, (Path(path).parent,))


def find_sol_in_tables(name, folders):
    """(Mars year, Ls) of sol `name` from the first `*_ls.txt` in `folders` that has its line, else
    (None, None)."""
    for folder in folders:
        for table_path in sorted(Path(folder).glob(LS_TABLE_PATTERN)):
            row = table_row_for(table_path, name)
            if row:
                return row
    return None, None
