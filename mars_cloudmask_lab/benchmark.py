"""Speed and memory of the engine: one MDGM in each tiling mode, a sweep over tile size and width,
and sols per hour over a folder (serial and on Dask). The `benchmark` command prints these.

Every measurement runs in a fresh Python process of its own (`run_child`): start-up is timed from
a cold interpreter, and the peak RSS is that process's own high-water mark as the kernel keeps it
(getrusage ru_maxrss), so the modes' peaks never mix. FLOPs are counted from the network's
convolution and transposed-convolution layers for the input shapes actually run (two FLOPs per
multiply-add; BatchNorm, ReLU, pooling and the sigmoid are left out, under 1% of the total).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mars_cloudmask_plugin.model import MODELS_DIR

RESULT_MARK = "mars-cloudmask-benchmark-result "
SHARED_DATA = MODELS_DIR.parent.parent / "shared" / "data"
SAMPLE_MDGM = MODELS_DIR.parent / "sample" / "P01_day10_zequat.jpg"
STAGES = ("read", "bounds and crop", "pad", "inference", "stitch", "post-filter", "write")


def other_stages_budget(target, flops_ratio, seamless_inference_s):
    """Seconds the stages other than inference (read, crop, pad, stitch, post-filter, write) may
    take, the same in both modes, for blend to be `target` times slower than seamless end to end
    when inference time follows FLOPs: (r I + S) / (I + S) >= target  <=>  S <= (r - target) I / (target - 1).
    Zero when the FLOPs ratio r itself is under the target."""
    return max(0.0, (flops_ratio - target) * seamless_inference_s / (target - 1))


def default_mdgm():
    """A real MDGM from ../shared/data (a validation sol), else the repository's sample."""
    real = SHARED_DATA / "P01" / "mdgm" / "P01_day15_zequat.jpg"
    return real if real.exists() else SAMPLE_MDGM


# ---------------------------------------------------------------- the parent side

def run_child(spec, timeout=None):
    """Run one measurement in a fresh interpreter; its result dict. `-P`: the working directory is
    not put on sys.path (the repository root holds a `processing/` folder that must never shadow
    QGIS's)."""
    code = "import sys; from mars_cloudmask_lab.benchmark import child_main; child_main(sys.argv[1])"
    proc = subprocess.run([sys.executable, "-P", "-c", code, json.dumps(spec)], capture_output=True, text=True,
                          timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK):])
    from mars_cloudmask_plugin.errors import CloudmaskError
    tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    raise CloudmaskError(None, f"benchmark step {spec['kind']} failed (exit {proc.returncode}): {tail}")


def child_main(spec_json):
    spec = json.loads(spec_json)
    result = {"peak": measure_peak, "mdgm": measure_mdgm, "bulk": measure_bulk,
              "frequency": measure_frequency, "clearsky": measure_clearsky}[spec.pop("kind")](**spec)
    result["peak_rss_bytes"] = peak_rss_bytes()
    print(RESULT_MARK + json.dumps(result), flush=True)


def peak_rss_bytes():
    """This process's peak resident set size (Linux reports ru_maxrss in KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ---------------------------------------------------------------- measurements (child side)

def tf_facts():
    """TensorFlow version, thread pools and devices as this process sees them."""
    import tensorflow as tf
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    return {"tensorflow": tf.__version__, "intra_op": intra, "inter_op": inter, "cpus": cpu_count(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")]}


def measure_peak(n=4096, repeat=3):
    """The machine's attainable float32 rate: best of `repeat` n x n matmuls on all cores, with
    TensorFlow (its default thread pool) and with numpy (its BLAS), plus one 3x3 convolution."""
    import numpy as np
    import tensorflow as tf

    def best(fn):
        fn()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    ta = tf.constant(a)
    matmul = tf.function(lambda x: tf.linalg.matmul(x, x))
    x = tf.random.uniform((1, 512, 512, 64))
    k = tf.random.uniform((3, 3, 64, 64))
    conv = tf.function(lambda x, k: tf.nn.conv2d(x, k, 1, "VALID"))
    flop_mm, flop_conv = 2.0 * n ** 3, 2.0 * 510 * 510 * 64 * 9 * 64
    return {"numpy_matmul": flop_mm / best(lambda: a @ a) / 1e9,
            "tf_matmul": flop_mm / best(lambda: matmul(ta).numpy()) / 1e9,
            "tf_conv3x3": flop_conv / best(lambda: conv(x, k).numpy()) / 1e9,
            "n": n, "repeat": repeat, **tf_facts()}


class CountingModel:
    """A CloudModel that counts its network evaluations and the input shapes they ran on."""

    def __init__(self, model):
        self._model, self.shapes = model, []

    def __getattr__(self, name):
        return getattr(self._model, name)

    def predict(self, batch):
        self.shapes.append(tuple(batch.shape[1:3]))
        return self._model.predict(batch)


_flops_cache = {}


def conv_flops(keras_model, rows, cols):
    """FLOPs of one forward pass on a rows x cols input: 2 x multiply-adds of every Conv2D and
    Conv2DTranspose, from the layer shapes Keras infers symbolically (nothing is computed); an
    ensemble's are its members' added up."""
    from mars_cloudmask_plugin.unet import networks
    return sum(_network_conv_flops(network, rows, cols) for network in networks(keras_model))


def _network_conv_flops(keras_model, rows, cols):
    key = (id(keras_model), rows, cols)
    if key not in _flops_cache:
        import keras
        import numpy as np
        convs = [layer for layer in keras_model.layers
                 if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
        probe = keras.Model(keras_model.inputs, [c.input for c in convs] + [c.output for c in convs])
        specs = probe.compute_output_spec(keras.KerasTensor((1, rows, cols, keras_model.inputs[0].shape[-1])))
        total = 0
        for layer, inp, out in zip(convs, specs[:len(convs)], specs[len(convs):]):
            taps = int(np.prod(layer.kernel_size))
            # a transposed conv spreads each input pixel over k x k outputs; a conv gathers k x k inputs
            pixels = inp.shape[1] * inp.shape[2] if isinstance(layer, keras.layers.Conv2DTranspose) \
                else out.shape[1] * out.shape[2]
            total += 2 * pixels * taps * inp.shape[3] * out.shape[3]
        _flops_cache[key] = int(total)
    return _flops_cache[key]


def random_model(width, tile_size=668, depth=4):
    """A random-weight U-Net of `width`: the same cost as a trained one of that width."""
    import keras

    from mars_cloudmask_plugin.model import CloudModel, model_metadata
    from mars_cloudmask_plugin.unet import build_unet
    keras.utils.set_random_seed(0)
    km = build_unet(width, depth)
    meta = model_metadata(km, name=f"random-w{width}", version="benchmark", width=width, depth=depth,
                          tile_size=tile_size)
    return CloudModel(km, meta, Path(f"random-w{width}.keras"))


def measure_mdgm(mdgm, tiling="seamless", tile_size="auto", model=None, random_width=None, repeat=3, write=True,
                 reference=None):
    """One cold run (traces the graph) then `repeat` warm runs of one MDGM, read to written; with
    `reference` (a clear-sky reference file) for a reference-aware model, read once before the runs."""
    t0 = time.perf_counter()
    import tensorflow  # noqa: F401  timed as start-up

    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.pipeline import make_cloudmask, output_paths, write_products
    t_import = time.perf_counter()
    cloud_model = random_model(random_width) if random_width else load_model(model)
    clearsky = None
    if reference:
        from mars_cloudmask_plugin.clearsky import read_clearsky
        clearsky = read_clearsky(reference)
    t_load = time.perf_counter()
    runs = []
    for _ in range(1 + max(0, repeat)):
        counting = CountingModel(cloud_model)
        t = time.perf_counter()
        result = make_cloudmask(mdgm, counting, tiling=tiling, tile_size=tile_size, clearsky=clearsky)
        if write:
            with tempfile.TemporaryDirectory() as folder:
                write_products(result, output_paths(folder, Path(mdgm).stem))
        wall = time.perf_counter() - t
        runs.append({"seconds": result.seconds, "total": wall, "shapes": counting.shapes})
    warm = runs[1:] or runs
    best = min(warm, key=lambda r: r["total"])
    layout, area = result.layout, result.area
    flops = sum(conv_flops(cloud_model.keras_model, *shape) for shape in best["shapes"])
    out_h, out_w = layout.out
    return {"mdgm": str(mdgm), "tiling": tiling, "tile": list(layout.tile), "tiles_planned": len(layout.offsets),
            "tiles_run": len(best["shapes"]), "area": list(area.shape),
            "evaluated_per_output": len(best["shapes"]) * out_h * out_w / (area.shape[0] * area.shape[1]),
            "input_per_output": sum(r * c for r, c in best["shapes"]) / (area.shape[0] * area.shape[1]),
            "seconds": best["seconds"], "total": best["total"], "totals": [r["total"] for r in warm],
            "median_total": statistics.median(r["total"] for r in warm),
            "cold_total": runs[0]["total"], "flops": flops,
            "import_s": t_import - t0, "load_s": t_load - t_import,
            "graph_build_s": max(0.0, runs[0]["total"] - best["total"]),
            "model": cloud_model.label, "width": cloud_model.metadata.get("width"),
            "parameters": cloud_model.metadata.get("parameters"), **tf_facts()}


def measure_bulk(root, out_dir, workers=0, model=None, limit=None, reference=None):
    """Every MDGM below `root` (the first `limit`), serially or on a `workers`-process LocalCluster:
    wall time from this fresh process's start, start-up included (imports, cluster, model loads)."""
    t0 = time.perf_counter()
    from mars_cloudmask_plugin.batch import plan_jobs
    from mars_cloudmask_plugin.parallel import run_jobs
    from mars_cloudmask_plugin.options import MaskOptions
    options = MaskOptions(model_path=model, reference=reference)
    jobs = plan_jobs(root, out_dir, options.formats)[:limit]
    outcomes = run_jobs(jobs, options, workers=workers, overwrite=True)
    wall = time.perf_counter() - t0
    return {"workers": workers, "sols": len(jobs), "wall": wall,
            "done": sum(o.status == "done" for o in outcomes),
            "failed": [o.message for o in outcomes if o.status == "failed"],
            "sol_seconds": [o.seconds for o in outcomes if o.status == "done"]}


def same_masks(jobs_a, jobs_b):
    """How many job pairs wrote identical mask arrays (GeoTIFF)."""
    import numpy as np
    import rasterio
    same = 0
    for a, b in zip(jobs_a, jobs_b):
        try:
            with rasterio.open(a.outputs["tif"]) as sa, rasterio.open(b.outputs["tif"]) as sb:
                same += bool(np.array_equal(sa.read(1), sb.read(1)))
        except rasterio.errors.RasterioIOError:
            pass
    return same


def measure_clearsky(root, out_dir, limit=None):
    """One clear-sky reference of the MDGMs below `root` (the first `limit`), timed from this fresh
    process's start (imports included)."""
    t0 = time.perf_counter()
    from mars_cloudmask_plugin.archive import find_mdgms
    from mars_cloudmask_plugin.clearsky import build_clearsky
    t_import = time.perf_counter()
    paths = find_mdgms(root)[:limit]
    info = build_clearsky(paths, Path(out_dir) / "clearsky.tif")
    t_end = time.perf_counter()
    return {"sols": len(info.sols), "ls": [info.ls_min, info.ls_max], "import_s": t_import - t0,
            "build_s": t_end - t_import, "wall_s": t_end - t0}


def measure_frequency(root, out_dir):
    """One cloud-frequency map of every mask below `root`, timed from this fresh process's start
    (imports included), and the time to find the masks and read their tags on its own."""
    t0 = time.perf_counter()
    from mars_cloudmask_plugin.frequency import cloud_frequency
    from mars_cloudmask_plugin.masks import select_masks
    t_import = time.perf_counter()
    masks = select_masks([root])
    t_select = time.perf_counter()
    [out] = cloud_frequency([root], Path(out_dir) / "frequency.tif")
    t_end = time.perf_counter()
    return {"masks": len(masks), "sols": out.sols, "import_s": t_import - t0, "select_s": t_select - t_import,
            "frequency_s": t_end - t_select, "wall_s": t_end - t0}
