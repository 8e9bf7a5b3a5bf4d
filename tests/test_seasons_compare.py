"""The lab's seasons comparison: the figures the model card quotes against the seasons targets."""
import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "mars_cloudmask_lab" / "scripts" / "seasons_compare.py"


def load_script():
    spec = importlib.util.spec_from_file_location("seasons_compare", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def seasons_json(path, model, figures):
    """A seasons --json holding only the subphase rows the script reads: {subphase: (cloud, agreement)}."""
    rows = [{"level": "subphase", "subphase": name, "sols": 7, "ls_range": "0.0-10.0", "paper_cloud_fraction": 0.05,
             "cloud_fraction": cloud, "agreement_iou": iou} for name, (cloud, iou) in figures.items()]
    sols = [{"level": "sol", "subphase": name, "sol": f"{name}_day01", "cloud_fraction": cloud, "valid_fraction": 0.5}
            for name, (cloud, _) in figures.items()]
    path.write_text(json.dumps({"model": model, "subphases": rows, "sols": sols}))
    return path


def test_drops_are_judged_outside_the_dust_season_and_cloud_inside_it(tmp_path, capsys):
    base = seasons_json(tmp_path / "single.json", "single", {"P02": (0.10, 0.70), "P07": (0.004, 0.50),
                                                             "P13": (0.05, 0.72), "P14": (0.03, 0.49)})
    other = seasons_json(tmp_path / "ref.json", "ref", {"P02": (0.10, 0.68), "P07": (0.02, 0.10),
                                                        "P13": (0.05, 0.62), "P14": (0.03, 0.47)})
    load_script().main([str(base), str(other)])
    out = capsys.readouterr().out
    assert "| P13 | 7 | 0.0-10.0 | 0.050 | 0.050 | 0.720 | 0.050 | 0.620 | -0.100 |" in out
    # P07's fall (dust season) is not a drop that counts; its 2% cloud is over the 1% limit
    assert "largest drop in agreement is 0.100 (P13); 2 of 3 subphases within 0.03 (P02, P14)" in out
    assert "dust-season cloud at most 2.0% (P07; 0 of 1 at or below 1%)" in out


def test_the_pooled_dust_season_share_weighs_each_sol_by_its_valid_pixels():
    sols = [{"level": "sol", "subphase": "P06", "sol": "P06_day01", "cloud_fraction": 0.03, "valid_fraction": 0.2},
            {"level": "sol", "subphase": "P09", "sol": "P09_day01", "cloud_fraction": 0.0, "valid_fraction": 0.6},
            {"level": "sol", "subphase": "P13", "sol": "P13_day01", "cloud_fraction": 0.5, "valid_fraction": 0.6}]
    # (0.03 * 0.2 + 0 * 0.6) / (0.2 + 0.6); P13 lies outside the dust season
    assert abs(load_script().pooled_dust_cloud(sols) - 0.0075) < 1e-12


def test_a_model_that_gains_everywhere_is_reported_by_its_smallest_gain_not_as_a_drop(tmp_path, capsys):
    base = seasons_json(tmp_path / "single.json", "single", {"P02": (0.10, 0.70), "P07": (0.004, 0.5),
                                                             "P13": (0.05, 0.72)})
    other = seasons_json(tmp_path / "ref.json", "ref", {"P02": (0.10, 0.74), "P07": (0.004, 0.3),
                                                        "P13": (0.05, 0.80)})
    load_script().main([str(base), str(other)])
    out = capsys.readouterr().out
    assert "outside the dust season no drop in agreement, the smallest gain +0.040 (P02); 2 of 2 subphases" in out
