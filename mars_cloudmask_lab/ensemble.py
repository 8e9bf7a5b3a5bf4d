"""Several trained cloud models as one model file: the mean of their probabilities, then one
threshold. The engine runs it like any model (the members take the same inputs and lose the same
margin, so seamless tiling stays exact); the lab chooses its threshold on the members' training sols
and scores it on their validation sols, as a training run does.

Averaging networks that learnt apart (other U-Nets, another width) removes part of each one's own
errors; it costs the members' time added up (model card, "An ensemble of season-aware heads")."""
from pathlib import Path

from mars_cloudmask_plugin.errors import CloudmaskError
from mars_cloudmask_plugin.model import CloudModel, fresh_copy, load_model, model_metadata, save_model

# What every member must share for the mean of their probabilities to be one model's output.
SHARED = ("inputs", "margin", "depth", "tile_size")
# What the members must have been trained and scored on for the ensemble's figures to mean anything.
SAME_SOLS = ("training_days", "validation_days")


def ensemble_network(keras_models, name="mars_cloudmask_ensemble"):
    """One Keras model: every member on the same input, the mean of their probabilities out.
    Members are renamed member1, member2 ... (Keras needs unique names for nested models)."""
    import keras
    if len(keras_models) < 2:
        raise CloudmaskError(None, "an ensemble needs at least two models")
    inputs = keras.Input(shape=tuple(keras_models[0].inputs[0].shape[1:]), name="inputs")
    outputs = [fresh_copy(model, f"member{k}")(inputs) for k, model in enumerate(keras_models, start=1)]
    return keras.Model(inputs, keras.layers.Average(name="mean_probability")(outputs), name=name)


def check_members(members):
    """Members must take the same inputs the same way and come from the same sols; one line names the first that does not."""
    first = members[0]
    for member in members[1:]:
        for key in SHARED + SAME_SOLS:
            if first.metadata.get(key) != member.metadata.get(key):
                raise CloudmaskError(member.path, f"cannot join an ensemble with {first.path.name}: its {key} "
                                                  f"{member.metadata.get(key)!r} differs from {first.metadata.get(key)!r}")


def ensemble_metadata(keras_model, members, name, version, threshold):
    first = members[0].metadata
    meta = model_metadata(keras_model, name=name, version=version, width=sum(int(m.metadata["width"]) for m in members),
                          depth=first["depth"], threshold=threshold, tile_size=first["tile_size"],
                          inputs=first["inputs"], training_days=first.get("training_days", []),
                          validation_days=first.get("validation_days", []))
    meta["architecture"] = (f"the mean of {len(members)} networks' probabilities (width: theirs added up, which "
                            f"is what sets the engine's tile memory): " + "; ".join(
                                f"{m.label} (width {m.metadata['width']}, {m.metadata['architecture']})" for m in members))
    meta["members"] = [{"name": m.name, "version": m.version, "width": m.metadata["width"], "file": _shown(m.path),
                        "threshold": m.threshold, "validation": _pooled(m.metadata.get("validation")),
                        "training_seconds": m.metadata.get("training_seconds")} for m in members]
    meta["training_seconds"] = round(sum(float(m.metadata.get("training_seconds") or 0) for m in members), 1)
    for key in ("clearsky", "weak_label_sols", "consensus_label_sols"):
        if key in first:
            meta[key] = first[key]
    return meta


def _shown(path):
    """A member's file as the command was given it: relative to the working folder where it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return Path(path).name


def _pooled(validation):
    return validation and {k: round(v, 4) for k, v in validation["pooled"].items() if k in ("iou", "f1")}


def make_ensemble(model_paths, out, run_dir, name, version, log=print):
    """Join trained model files into one ensemble file at `out`: its threshold chosen on the members'
    training sols (sweep in run_dir/threshold.csv), its validation figures on their validation sols
    (or, without any, its fit on the training sols). Returns the written path."""
    from .train import (THRESHOLD_CHOICE, TrainConfig, choose_threshold, clearsky_source, mdgm_path_for, training_fit,
                        validation_summary)
    if len(model_paths) < 2:
        raise CloudmaskError(model_paths[0] if model_paths else None, "an ensemble needs at least two models")
    members = [load_model(path) for path in model_paths]
    check_members(members)
    config_values = members[0].metadata.get("training_config")
    if not config_values:
        raise CloudmaskError(members[0].path, "has no training_config (a model made by mars-cloudmask train has one)")
    config = TrainConfig(**{**config_values, "stages": []})
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras_model = ensemble_network([m.keras_model for m in members], name=name)
    meta = ensemble_metadata(keras_model, members, name, version, threshold=members[0].threshold)
    ensemble = CloudModel(keras_model, meta, Path(out))
    clearsky_of = clearsky_source(config, run_dir / "clearsky")
    log(f"{ensemble.label}: {len(members)} members ({', '.join(m.label for m in members)})")
    meta["threshold"] = choose_threshold(ensemble, config, run_dir, log, clearsky_of)
    meta["threshold_choice"] = THRESHOLD_CHOICE
    if config.val_days:
        val_paths = [mdgm_path_for(n, config.mdgm_dir, "a validation sol") for n in config.val_days]
        meta["validation"] = validation_summary(ensemble, val_paths, config, clearsky_of)
        log(f"validation IoU {meta['validation']['pooled']['iou']:.4f} on {', '.join(config.val_days)}")
    else:
        meta["training_fit"] = training_fit(ensemble, config, run_dir, log)
    written = save_model(keras_model, out, meta, include_optimizer=False)
    log(f"wrote {written}")
    return written
