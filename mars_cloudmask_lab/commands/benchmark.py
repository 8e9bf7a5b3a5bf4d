"""mars-cloudmask benchmark [MDGM] : seconds per stage, memory, FLOPs and sols per hour."""
import platform
import sys
import tempfile
from pathlib import Path

from mars_cloudmask_plugin.errors import CloudmaskError
from mars_cloudmask_plugin.options import parse_tile_size

from ..benchmark import STAGES, run_child

GB = 1e9
SWEEP_TILES = "412,668,1052,1308,auto,whole"
SWEEP_WIDTHS = "8,16,32"
_TILE_NOTE = {None: " (whole)", "auto": " (auto)"}


def register(sub):
    p = sub.add_parser("benchmark", help="speed and memory figures (stages, peak RSS, FLOPs, sols per hour)",
                       description="Times one MDGM read to written in both tiling modes, each in a fresh process "
                                   "(start-up on its own line, peak RSS per process), counts network evaluations "
                                   "and FLOPs and compares them with the machine's measured peak. --sweep: how "
                                   "time and memory grow with tile size and width (random-weight models). "
                                   "--bulk DIR: sols per hour over a folder, serial and on a Dask LocalCluster.")
    p.add_argument("mdgm", nargs="?", type=Path, metavar="MDGM",
                   help="MDGM to time (default: ../shared/data/P01/mdgm/P01_day15_zequat.jpg, else the sample)")
    p.add_argument("--model", metavar="PATH", help="a .keras model file (default: the shipped model)")
    p.add_argument("--random-width", type=int, metavar="W",
                   help="time a random-weight U-Net of width W instead (same cost as a trained one)")
    p.add_argument("--repeat", type=int, default=3, metavar="N", help="warm runs after the cold one; best is shown")
    p.add_argument("--tile-size", default="auto", metavar="PX",
                   help="tile size for the seamless run (default: the engine's default)")
    p.add_argument("--sweep", action="store_true", help="time and peak memory against tile size and width")
    p.add_argument("--live", action="store_true",
                   help="also time QGIS's plan (seamless in at least three strips, so progress moves) against "
                        "the CLI's")
    p.add_argument("--sweep-tiles", default=SWEEP_TILES, metavar="LIST", help=f"(default {SWEEP_TILES})")
    p.add_argument("--sweep-widths", default=SWEEP_WIDTHS, metavar="LIST", help=f"(default {SWEEP_WIDTHS})")
    p.add_argument("--bulk", type=Path, metavar="DIR", help="sols per hour over the MDGMs below DIR")
    p.add_argument("--workers", type=int, default=2, metavar="N", help="Dask workers for --bulk (default 2)")
    p.add_argument("--limit", type=int, metavar="K", help="--bulk: only the first K sols")
    p.add_argument("--reference", type=Path, metavar="FILE",
                   help="a clear-sky reference for a reference-aware --model (mars-cloudmask reference)")
    p.add_argument("--clearsky", type=Path, metavar="DIR",
                   help="seconds and peak memory of one clear-sky reference of the MDGMs below DIR (--limit K: "
                        "the first K)")
    p.add_argument("--frequency", type=Path, metavar="DIR",
                   help="seconds and peak memory of one cloud-frequency map of every mask below DIR")
    p.set_defaults(func=run)


def run(args):
    from .. import benchmark
    mdgm = args.mdgm or benchmark.default_mdgm()
    if not (args.bulk or args.frequency or args.clearsky) and not Path(mdgm).is_file():
        raise CloudmaskError(mdgm, "MDGM not found")
    model = None if args.sweep and not args.bulk else _model_spec(args)
    print(f"mars-cloudmask benchmark on {platform.node() or 'this machine'}: {benchmark.cpu_count()} CPUs "
          f"({_cpu_name()}), {platform.system()} {platform.machine()}")
    if args.bulk:
        return _bulk(args, model)
    if args.frequency:
        return _frequency(args)
    if args.clearsky:
        return _clearsky(args)
    peak = run_child({"kind": "peak"})
    _print_machine(peak)
    if args.sweep:
        return _sweep(args, mdgm, peak)
    return _modes(args, mdgm, model, peak)


def _model_spec(args):
    if args.random_width:
        return {"random_width": args.random_width}
    from mars_cloudmask_plugin.model import DEFAULT_CLEARSKY_MODEL, DEFAULT_MODEL, read_metadata
    model = args.model or (DEFAULT_CLEARSKY_MODEL if args.reference else DEFAULT_MODEL)
    read_metadata(model)          # a missing or bad model fails here, in one line
    spec = {"model": str(model)}
    if args.reference:
        from mars_cloudmask_plugin.clearsky import read_clearsky_info
        spec["reference"] = str(read_clearsky_info(args.reference).path)
    return spec


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _print_machine(peak):
    gpus = ", ".join(peak["gpus"]) or "none visible to TensorFlow (CPU only)"
    print(f"TensorFlow {peak['tensorflow']}; GPU: {gpus}")
    print(f"machine peak (float32, all cores, best of {peak['repeat']}): TensorFlow {peak['n']}x{peak['n']} matmul "
          f"{peak['tf_matmul']:.0f} GFLOP/s, numpy matmul {peak['numpy_matmul']:.0f} GFLOP/s, "
          f"TensorFlow 3x3 conv 64->64 {peak['tf_conv3x3']:.0f} GFLOP/s")


def _runs(repeat):
    return f"best of {repeat} warm runs after one cold run" if repeat > 0 else "one cold run only"


def _peak_of(peak):
    return max(peak["tf_matmul"], peak["numpy_matmul"], peak["tf_conv3x3"])


def _threads(r):
    def one(n):
        return f"{n}" if n else f"TF default ({r['cpus']})"
    return f"intra-op {one(r['intra_op'])}, inter-op {one(r['inter_op'])}"


def _tile(r):
    return "x".join(map(str, r["tile"]))


def _modes(args, mdgm, model, peak):
    spec = {"kind": "mdgm", "mdgm": str(mdgm), "repeat": args.repeat, **model}
    tile = parse_tile_size(args.tile_size)
    s = run_child(dict(spec, tiling="seamless", tile_size=tile))
    b = run_child(dict(spec, tiling="blend", tile_size="auto"))
    print(f"MDGM {mdgm} (prediction area {s['area'][0]} x {s['area'][1]} px)")
    print(f"model {s['model']}: width {s['width']}, {s['parameters']:,} parameters")
    print(f"each mode in a fresh process, {_runs(args.repeat)}; peak RSS = the process's high-water mark "
          "(getrusage ru_maxrss), start-up included")
    rows = [(f"{stage} (s)", f"{s['seconds'].get(stage, 0):.3f}", f"{b['seconds'].get(stage, 0):.3f}")
            for stage in STAGES]
    rows += [("total, end to end (s)", f"{s['total']:.3f}", f"{b['total']:.3f}"),
             ("median of warm totals (s)", f"{s['median_total']:.3f}", f"{b['median_total']:.3f}"),
             ("peak RSS (GB)", f"{s['peak_rss_bytes'] / GB:.2f}", f"{b['peak_rss_bytes'] / GB:.2f}"),
             ("tile (input px)", _tile(s), _tile(b)),
             ("network evaluations (tiles run / planned)", f"{s['tiles_run']} / {s['tiles_planned']}",
              f"{b['tiles_run']} / {b['tiles_planned']}"),
             ("pixels evaluated per output pixel", f"{s['evaluated_per_output']:.2f}", f"{b['evaluated_per_output']:.2f}"),
             ("input pixels per output pixel", f"{s['input_per_output']:.2f}", f"{b['input_per_output']:.2f}"),
             ("FLOPs per MDGM (GFLOP)", f"{s['flops'] / 1e9:.0f}", f"{b['flops'] / 1e9:.0f}"),
             ("achieved GFLOP/s (inference)", *(_rate(r) for r in (s, b))),
             ("share of machine peak", *(f"{_rate(r, _peak_of(peak), share=True)}" for r in (s, b))),
             ("cold first MDGM (s)", f"{s['cold_total']:.3f}", f"{b['cold_total']:.3f}")]
    print(_table(("", "seamless", "blend"), rows))
    print(f"blend / seamless: end to end {b['total'] / s['total']:.2f}x, inference "
          f"{b['seconds']['inference'] / max(s['seconds']['inference'], 1e-9):.2f}x, FLOPs {b['flops'] / max(s['flops'], 1):.2f}x")
    _print_ratio_ceiling(s, b)
    print(f"threads: {_threads(s)} (seamless process); {_threads(b)} (blend process)")
    for label, r in (("seamless", s), ("blend", b)):
        print(f"process start-up ({label} process): {r['import_s'] + r['load_s']:.2f} s = import {r['import_s']:.2f} s "
              f"+ model load {r['load_s']:.2f} s; first-call graph build {r['graph_build_s']:.2f} s more")
    if getattr(args, "live", False):
        live = run_child(dict(spec, tiling="seamless", tile_size="live"))
        print(f"QGIS plan (seamless in {live['tiles_run']} strips of {_tile(live)} px, progress after each): end to end "
              f"{live['total']:.3f} s = {live['total'] / s['total']:.2f}x the CLI plan's {s['total']:.3f} s "
              f"({s['tiles_run']} tile(s)); inference {live['seconds']['inference']:.3f} s = "
              f"{live['seconds']['inference'] / max(s['seconds']['inference'], 1e-9):.2f}x; "
              f"{live['input_per_output'] / max(s['input_per_output'], 1e-9):.2f}x the input pixels")
    return 0


def _print_ratio_ceiling(s, b, target=4.0):
    """What the end-to-end ratio can reach: the other stages cost the same in both modes, so they
    pull it below the FLOPs ratio whatever the inference speed."""
    from ..benchmark import other_stages_budget
    other = s["total"] - s["seconds"].get("inference", 0.0)
    budget = other_stages_budget(target, b["flops"] / max(s["flops"], 1), s["seconds"].get("inference", 0.0))
    print(f"{target:g}x end to end at this FLOPs ratio needs the stages other than inference under {budget:.3f} s "
          f"per MDGM in both modes (seamless spends {other:.3f} s on them)")


def _rate(r, peak=None, share=False):
    inference = max(r["seconds"].get("inference", 0.0), 1e-9)
    rate = r["flops"] / inference / 1e9
    return f"{100 * rate / peak:.0f}%" if share else f"{rate:.0f}"


def _table(header, rows):
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w) for i, (x, w) in enumerate(zip(row, widths)))
             for row in (header, *rows)]
    return "\n".join(lines)


def _sweep(args, mdgm, peak):
    tiles = [parse_tile_size(t.strip()) for t in args.sweep_tiles.split(",") if t.strip()]
    widths = [int(w) for w in args.sweep_widths.split(",") if w.strip()]
    print(f"sweep on {mdgm}: seamless, random-weight models, each cell a fresh process, {_runs(args.repeat)} "
          "(read to post-filter, no write); peak RSS of that process; share = GFLOP/s / machine peak")
    header = ("width", "tile (input px)", "tiles run", "eval px / out px", "in px / out px", "GFLOP",
              "inference (s)", "total (s)", "GFLOP/s", "share", "peak RSS (GB)")
    rows = []
    for width in widths:
        for tile in tiles:
            r = run_child({"kind": "mdgm", "mdgm": str(mdgm), "repeat": args.repeat, "random_width": width,
                                 "tiling": "seamless", "tile_size": tile, "write": False})
            rows.append((width, _tile(r) + _TILE_NOTE.get(tile, ""), r["tiles_run"],
                         f"{r['evaluated_per_output']:.2f}", f"{r['input_per_output']:.2f}", f"{r['flops'] / 1e9:.0f}",
                         f"{r['seconds']['inference']:.2f}", f"{r['total']:.2f}", _rate(r),
                         _rate(r, _peak_of(peak), share=True),
                         f"{r['peak_rss_bytes'] / GB:.2f}"))
            print(f"  width {width}, tile {rows[-1][1]}: {rows[-1][7]} s", file=sys.stderr, flush=True)
    print(_table(header, rows))
    return 0


def _bulk(args, model):
    from .. import benchmark
    from mars_cloudmask_plugin.batch import plan_jobs
    if not args.bulk.is_dir():
        raise CloudmaskError(args.bulk, "folder not found")
    if args.workers < 1:
        raise CloudmaskError(None, f"--workers {args.workers}: must be 1 or more")
    if "random_width" in model:
        raise CloudmaskError(None, "--bulk runs the real batch: give --model, not --random-width")
    with tempfile.TemporaryDirectory(prefix="mars-cloudmask-bulk-") as tmp:
        results = {}
        for workers in (0, args.workers):
            out = Path(tmp) / f"workers{workers}"
            results[workers] = run_child({"kind": "bulk", "root": str(args.bulk), "out_dir": str(out),
                                                   "workers": workers, "limit": args.limit, **model})
        jobs = {w: plan_jobs(args.bulk, Path(tmp) / f"workers{w}", ("tif", "nc"))[:args.limit] for w in results}
        same = benchmark.same_masks(jobs[0], jobs[args.workers])
    print(f"bulk: {results[0]['sols']} sols below {args.bulk}, default options (tif + nc), each run in a fresh "
          "process, wall time from its start (imports, cluster and model loads included)")
    rows = []
    for workers, r in results.items():
        label = "serial (1 process)" if workers == 0 else f"Dask LocalCluster, {workers} workers x 1 thread"
        per_sol = sum(r["sol_seconds"]) / max(1, len(r["sol_seconds"]))
        rows.append((label, r["done"], len(r["failed"]), f"{r['wall']:.1f}", f"{3600 * r['done'] / r['wall']:.0f}",
                     f"{per_sol:.2f}", f"{r['peak_rss_bytes'] / GB:.2f}"))
    print(_table(("run", "done", "failed", "wall (s)", "sols per hour", "mean s per sol", "peak RSS client (GB)"), rows))
    speedup = results[0]["wall"] / results[args.workers]["wall"]
    print(f"{args.workers} workers / serial: {speedup:.2f}x sols per hour; masks identical to the serial run's: "
          f"{same} of {results[0]['done']}")
    for r in results.values():
        for message in r["failed"]:
            print(f"  FAILED {message}")
    return 0


def _folder_child(kind, folder, **spec):
    """The machine's peak, then the `kind` child timed over `folder` in a fresh process, writing to a
    temporary folder: its figures."""
    if not folder.is_dir():
        raise CloudmaskError(folder, "folder not found")
    _print_machine(run_child({"kind": "peak"}))
    with tempfile.TemporaryDirectory(prefix=f"mars-cloudmask-{kind}-") as tmp:
        return run_child({"kind": kind, "root": str(folder), "out_dir": tmp, **spec})


def _clearsky(args):
    r = _folder_child("clearsky", args.clearsky, limit=args.limit)
    print(f"clear-sky reference of {r['sols']} MDGMs below {args.clearsky} (Ls {r['ls'][0]:g}-{r['ls'][1]:g}), in a "
          f"fresh process: {r['wall_s']:.1f} s in all (imports {r['import_s']:.1f} s, the reference "
          f"{r['build_s']:.1f} s = {r['build_s'] / max(r['sols'], 1):.2f} s per sol); peak RSS "
          f"{r['peak_rss_bytes'] / GB:.2f} GB")
    return 0


def _frequency(args):
    r = _folder_child("frequency", args.frequency)
    print(f"cloud frequency of {r['masks']} masks below {args.frequency}, in a fresh process: "
          f"{r['wall_s']:.1f} s from its start (imports {r['import_s']:.1f} s, finding masks and reading their "
          f"tags {r['select_s']:.1f} s, the map {r['frequency_s']:.1f} s = {r['masks'] / max(r['frequency_s'], 1e-9):.0f} "
          f"masks/s); peak RSS {r['peak_rss_bytes'] / GB:.2f} GB")
    return 0
