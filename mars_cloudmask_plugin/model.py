"""Loading and saving the cloud model: a Keras 3 `.keras` file that carries its own metadata
(tile geometry, normalisation, threshold, version, training days) as `mars_cloudmask.json`
inside the archive, so the engine reads these instead of hard-coding them."""
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CloudmaskError
from .inputs import CHANNELS, LEGACY_INPUTS, channel_names, needs_clearsky
from .postfilter import DEFAULT_THRESHOLD

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_MODEL = MODELS_DIR / "mars_cloudmask_unet.keras"
DEFAULT_CLEARSKY_MODEL = MODELS_DIR / "mars_cloudmask_unet_clearsky.keras"   # the default with a reference
FASTER_CLEARSKY_MODEL = MODELS_DIR / "mars_cloudmask_unet_clearsky_w8.keras"   # one network: about a third of the time
SHIPPED_MODELS = (DEFAULT_MODEL, DEFAULT_CLEARSKY_MODEL, FASTER_CLEARSKY_MODEL)   # what the plugin ZIP carries
METADATA_MEMBER = "mars_cloudmask.json"
FORMAT = "mars-cloudmask-model/1"


@dataclass
class CloudModel:
    keras_model: object
    metadata: dict
    path: Path
    _predict_fn: object = field(default=None, repr=False)

    @property
    def name(self):
        return self.metadata.get("name") or self.path.stem

    @property
    def version(self):
        return self.metadata.get("version", "unversioned")

    @property
    def threshold(self):
        return float(self.metadata.get("threshold", DEFAULT_THRESHOLD))

    @property
    def margin(self):
        return int(self.metadata["margin"])

    @property
    def depth(self):
        return int(self.metadata.get("depth", 4))

    @property
    def tile_size(self):
        return self.metadata.get("tile_size", 668)

    @property
    def channels(self):
        """The names of the network's input channels, in order (inputs.CHANNELS)."""
        return channel_names(self.metadata.get("inputs", "rgb"), self.path)

    @property
    def uses_latitude(self):
        return "latitude" in self.channels

    @property
    def needs_clearsky(self):
        """True when the network takes the clear-sky reference (see clearsky.py)."""
        return needs_clearsky(self.channels)

    @property
    def label(self):
        return f"{self.name} {self.version}"

    def predict(self, batch):
        """(n, rows, cols, channels) float32 inputs -> (n, rows - 2m, cols - 2m) probabilities."""
        if self._predict_fn is None:
            self._predict_fn = _compiled_inference(self.keras_model)
        return self._predict_fn(batch)[..., 0]


def _compiled_inference(model):
    """numpy in, numpy out. TensorFlow: one tf.function that retraces little across tile shapes, as
    the engine has always run; Keras's other backends (JAX or torch on a GPU host without
    TensorFlow, where the lab trains) compile their own inference step in predict_on_batch."""
    import keras
    if keras.backend.backend() != "tensorflow":
        return lambda x: keras.ops.convert_to_numpy(model.predict_on_batch(x))
    import tensorflow as tf
    fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return lambda x: fn(x).numpy()


def model_metadata(keras_model, *, name, version, width, depth=4, threshold=DEFAULT_THRESHOLD, tile_size=668,
                   inputs=None, **extra):
    """The metadata every shipped or trained model file carries. `inputs`: the channel names
    (default: RGB, plus latitude for a 4-channel network)."""
    from .unet import margin
    if inputs is None:
        inputs = LEGACY_INPUTS["rgb+latitude" if keras_model.inputs[0].shape[-1] == 4 else "rgb"]
    names = channel_names(list(inputs))
    scaled = "; ".join(f"{', '.join(group)} {_scaling(CHANNELS[group[0]])}" for group in _same_factor_runs(names))
    meta = {"format": FORMAT, "name": name, "version": version, "architecture": "U-Net, valid padding",
            "width": width, "depth": depth, "margin": margin(depth), "input_rule": f"{2 ** depth}k + {4 * (2 ** depth - 1)}",
            "tile_size": tile_size, "inputs": list(names),
            "normalisation": f"{scaled} inside the model, nothing else",
            "threshold": threshold, "parameters": int(keras_model.count_params())}
    meta.update(extra)
    return meta


def _same_factor_runs(names):
    runs = []
    for name in names:
        if runs and CHANNELS[runs[-1][-1]] == CHANNELS[name]:
            runs[-1].append(name)
        else:
            runs.append([name])
    return runs


def _scaling(factor):
    return "as they are" if factor == 1 else f"/ {1 / factor:g}"


def save_model(keras_model, path, metadata, include_optimizer=True):
    """Write the model and its metadata atomically (temp name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial.keras")
    try:
        keras_model.save(tmp, include_optimizer=include_optimizer) if include_optimizer else \
            _save_without_optimizer(keras_model, tmp)
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(METADATA_MEMBER, json.dumps(metadata, indent=2, sort_keys=True))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _save_without_optimizer(keras_model, path):
    # A fresh, uncompiled model from the same config: no optimizer state travels with it.
    fresh_copy(keras_model).save(path)


def fresh_copy(keras_model, name=None):
    """The same network and weights in a new, uncompiled Keras model (renamed when `name` is given)."""
    import keras
    config = keras_model.get_config()
    clone = keras.Model.from_config({**config, "name": name} if name else config)
    clone.set_weights(keras_model.get_weights())
    return clone


# What the engine reads from a model's metadata; a file from `mars-cloudmask train` has all of it.
REQUIRED_METADATA = {"margin": int, "depth": int, "inputs": (str, list), "tile_size": int, "threshold": float}


def read_metadata(path):
    """The metadata of a model file, checked: every field the engine needs, of the right kind."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read(METADATA_MEMBER))
    except FileNotFoundError:
        if path == DEFAULT_MODEL.resolve() or path == DEFAULT_MODEL:
            raise CloudmaskError(path, "the shipped model is missing; reinstall the plugin with its models/ "
                                       "folder or choose a model file") from None
        raise CloudmaskError(path, "model file not found") from None
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise CloudmaskError(path, f"is not a Mars Cloudmask model (a .keras file with {METADATA_MEMBER})") from None
    if not isinstance(meta, dict):
        raise CloudmaskError(path, f"its {METADATA_MEMBER} is not a JSON object")
    missing = [key for key in REQUIRED_METADATA if key not in meta]
    if missing:
        raise CloudmaskError(path, f"model metadata lacks {', '.join(missing)} (a model made by mars-cloudmask train "
                                   "has them)")
    for key, kind in REQUIRED_METADATA.items():
        value = meta[key]
        ok = isinstance(value, kind) if isinstance(kind, tuple) else isinstance(value, str) if kind is str else (
            isinstance(value, (int, float)) and not isinstance(value, bool)
            and (kind is float or float(value).is_integer()))
        if not ok:
            kinds = " or ".join(k.__name__ for k in kind) if isinstance(kind, tuple) else kind.__name__
            raise CloudmaskError(path, f"model metadata {key} = {value!r} is not a {kinds}")
    if not 0.0 < float(meta["threshold"]) < 1.0:
        raise CloudmaskError(path, f"model metadata threshold = {meta['threshold']!r} is not between 0 and 1")
    channel_names(meta["inputs"], path)
    return meta


def check_network(keras_model, metadata, path):
    """The network must be the one its metadata describes: input channels, and an output smaller than
    the input by the stated margin on each side."""
    channels = keras_model.inputs[0].shape[-1]
    names = channel_names(metadata["inputs"], path)
    if channels != len(names):
        raise CloudmaskError(path, f"network does not match its metadata: it takes {channels} input channels, the "
                                   f"metadata says {', '.join(names)} ({len(names)})")
    tile, margin = int(metadata["tile_size"]), int(metadata["margin"])
    try:
        out = keras_model.compute_output_shape((1, tile, tile, channels))
    except Exception as exc:  # noqa: BLE001  Keras raises many kinds for a shape it cannot take
        raise CloudmaskError(path, f"network does not match its metadata: it cannot take a {tile} px tile "
                                   f"({type(exc).__name__})") from None
    if tuple(out[1:3]) != (tile - 2 * margin, tile - 2 * margin):
        raise CloudmaskError(path, f"network does not match its metadata: a {tile} px tile gives {tuple(out[1:3])}, "
                                   f"not {tile - 2 * margin} px (margin {margin})")


_cache = {}


def load_model(path=None):
    """The model at `path` (default: the shipped one), loaded once per process and file version."""
    path = Path(path or DEFAULT_MODEL).resolve()
    metadata = read_metadata(path)
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _cache:
        import keras
        try:
            keras_model = keras.saving.load_model(path, compile=False)
        except Exception as exc:  # Keras raises many types for a damaged archive; keep its first line
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            raise CloudmaskError(path, f"cannot be loaded as a Keras model ({type(exc).__name__}: {first})") from None
        check_network(keras_model, metadata, path)
        _cache.clear()  # one model per process is the common case; keep memory flat in batch runs
        _cache[key] = CloudModel(keras_model, metadata, path)
    return _cache[key]
