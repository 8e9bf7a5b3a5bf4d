"""Outputs stay correct under faults, each guarantee of the README's "Errors" paragraph proved here:
verified writes (a write failing midway, a real full disk), all or nothing per sol, resume that
checks (impostor outputs, other options), claims for concurrent runs, never overwriting unasked,
SIGTERM, malformed Ls tables, damaged models, parameters refused before the model loads."""
import json
import os
import signal
import subprocess
import threading
import time
import zipfile

import numpy as np
import pytest

from mars_cloudmask_plugin import grid
from mars_cloudmask_plugin.errors import CloudmaskError

MASK = np.zeros((grid.HEIGHT, grid.WIDTH), np.int16)


def files_below(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# -- 1. verified writes --------------------------------------------------------------------------

def test_a_write_that_silently_truncates_is_caught_and_leaves_nothing(tmp_path, monkeypatch):
    """GDAL on a full disk may only print an error: the file reads back wrong, and nothing takes its name."""
    import rasterio
    from mars_cloudmask_plugin.writers import write_geotiff
    real_write = rasterio.io.DatasetWriter.write
    monkeypatch.setattr(rasterio.io.DatasetWriter, "write", lambda self, arr, *a, **k: real_write(self, arr * 0 + 7))
    with pytest.raises(CloudmaskError, match="mask.tif: written file does not read back as written"):
        write_geotiff(tmp_path / "mask.tif", MASK)
    assert files_below(tmp_path) == []


@pytest.fixture
def small_disk(tmp_path):
    """A real 300 kB filesystem (tmpfs), where the machine allows mounting one."""
    folder = tmp_path / "small"
    folder.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(folder)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({proc.stderr.decode().strip() or 'not permitted'})")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_real_full_disk_is_one_line_and_no_file(small_disk, make_mdgm, cli, tiny_model_path):
    rc, out, err = cli("predict", make_mdgm("P01_day10"), "--out-dir", small_disk, "--model", tiny_model_path,
                       "--probability")
    assert rc == 1 and len(err.strip().splitlines()) == 1, err
    assert str(small_disk) in err and "no space left on device" in err
    assert files_below(small_disk) == []


# -- 2. all or nothing per sol ------------------------------------------------------------------

def test_when_the_netcdf_fails_the_sols_geotiff_does_not_stay(make_mdgm, tmp_path, cli, tiny_model_path, monkeypatch):
    from mars_cloudmask_plugin import writers
    def broken(tmp, *a, final=None, **k):
        raise writers.write_error(final, OSError(28, "No space left on device"))
    monkeypatch.setattr(writers, "netcdf_grids_to", broken)
    rc, out, err = cli("predict", make_mdgm("P01_day10"), "--out-dir", tmp_path / "out", "--model", tiny_model_path)
    assert rc == 1 and "P01_day10_zequat_cloudmask.nc: no space left on device" in err
    assert files_below(tmp_path / "out") == []


# -- 3. resume that checks ----------------------------------------------------------------------

@pytest.fixture
def two_sols(make_mdgm, tmp_path):
    root = tmp_path / "archive"
    make_mdgm("P01_day01", folder=root / "P01")
    make_mdgm("P01_day02", folder=root / "P01", seed=1)
    return root


def test_resume_redoes_impostors_and_outputs_of_other_options_and_says_why(two_sols, tmp_path, cli, tiny_model_path):
    out = tmp_path / "masks"
    args = ("batch", two_sols, "--out-dir", out, "--model", tiny_model_path, "--formats", "tif")
    assert cli(*args)[0] == 0
    first = out / "P01" / "P01_day01_zequat_cloudmask.tif"
    second = out / "P01" / "P01_day02_zequat_cloudmask.tif"
    first.write_bytes(b"")                                       # an impostor: 0 bytes
    rc, stdout, _ = cli(*args)
    assert rc == 0 and "1 done, 1 skipped (outputs exist), 0 failed, 1 redone" in stdout
    assert "REDONE P01_day01_zequat.jpg: P01_day01_zequat_cloudmask.tif is empty" in stdout
    second.unlink()
    second.mkdir()                                               # an impostor: a folder
    rc, stdout, _ = cli(*args)                                   # never counted done, never a traceback
    assert rc == 1 and f"FAILED {second}: is a folder; not replaced" in stdout
    second.rmdir()
    assert cli(*args)[0] == 0
    rc, stdout, _ = cli(*args, "--threshold", "0.7")             # other options: redone, not kept
    assert rc == 0 and "2 done, 0 skipped (outputs exist), 0 failed, 2 redone" in stdout
    assert "was made with other options: THRESHOLD '0.5' (asked '0.7')" in stdout
    rc, stdout, _ = cli(*args, "--threshold", "0.7")
    assert "0 done, 2 skipped (outputs exist)" in stdout


def test_stale_temporary_files_of_a_killed_run_are_removed(two_sols, tmp_path, cli, tiny_model_path):
    out = tmp_path / "masks" / "P01"
    out.mkdir(parents=True)
    stale = out / ".P01_day01_zequat_cloudmask.tif.abc123.partial"
    stale.write_bytes(b"half a file")
    rc, _, err = cli("batch", two_sols, "--out-dir", tmp_path / "masks", "--model", tiny_model_path, "--formats", "tif")
    assert rc == 0, err
    assert not stale.exists()
    assert files_below(tmp_path / "masks") == ["P01/P01_day01_zequat_cloudmask.tif", "P01/P01_day02_zequat_cloudmask.tif"]


def test_a_claim_left_by_a_dead_process_is_taken_over_and_a_live_one_respected(two_sols, tmp_path, tiny_model_path):
    import fcntl
    from mars_cloudmask_plugin.batch import plan_jobs, run_job
    from mars_cloudmask_plugin.options import MaskOptions
    from mars_cloudmask_plugin.resume import claim_path
    options = MaskOptions(model_path=str(tiny_model_path), formats=("tif",))
    dead, live = plan_jobs(two_sols, tmp_path / "masks", options.formats)
    for job in (dead, live):
        claim_path(job).parent.mkdir(parents=True, exist_ok=True)
        claim_path(job).write_text(json.dumps({"pid": 2 ** 22 + 12345, "time": time.time()}))
    held = open(claim_path(live), "r+")                       # a live run holds this one
    fcntl.flock(held, fcntl.LOCK_EX)
    held.truncate(0)
    held.write(json.dumps({"pid": 4242}))
    held.flush()
    try:
        assert run_job(dead, options).status == "done" and not claim_path(dead).exists()
        outcome = run_job(live, options)
        assert outcome.status == "skipped" and outcome.claimed and "pid 4242" in outcome.message
    finally:
        held.close()
    assert run_job(live, options).status == "done"             # released: the next run takes it


def test_two_batch_runs_on_one_folder_make_each_sol_once(make_mdgm, tmp_path, tiny_model_path):
    from mars_cloudmask_plugin.parallel import run_batch
    from mars_cloudmask_plugin.model import load_model
    from mars_cloudmask_plugin.options import MaskOptions
    root = tmp_path / "archive"
    for day in range(1, 5):
        make_mdgm(f"P01_day0{day}", folder=root / "P01", seed=day % 2)
    options = MaskOptions(model_path=str(tiny_model_path), formats=("tif",))
    load_model(tiny_model_path)                                  # both threads share the process's model
    reports = [None, None]

    def run(i):
        reports[i] = run_batch(root, tmp_path / "masks", options)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done = [o.source.name for r in reports for o in r.outcomes if o.status == "done"]
    assert sorted(done) == [f"P01_day0{d}_zequat.jpg" for d in range(1, 5)]   # each sol made exactly once
    assert not [o for r in reports for o in r.outcomes if o.status == "failed"]
    assert not list((tmp_path / "masks").rglob("*.claim")) and not list((tmp_path / "masks").rglob("*.partial"))


# -- 4. never overwrite unasked -----------------------------------------------------------------

def test_predict_refuses_existing_outputs_unless_overwrite_and_never_replaces_read_only(make_mdgm, tmp_path, cli,
                                                                                       tiny_model_path):
    source = make_mdgm("P01_day10")
    out = tmp_path / "out"
    args = ("predict", source, "--out-dir", out, "--model", tiny_model_path, "--formats", "tif")
    assert cli(*args)[0] == 0
    mask = out / "P01_day10_zequat_cloudmask.tif"
    before = mask.stat().st_mtime_ns
    rc, _, err = cli(*args)
    assert rc == 1 and f"{mask}: exists; pass --overwrite to replace it" in err
    assert mask.stat().st_mtime_ns == before
    assert cli(*args, "--overwrite")[0] == 0 and mask.stat().st_mtime_ns != before
    mask.chmod(0o444)
    if os.access(mask, os.W_OK):
        pytest.skip("running as a user who may write read-only files (root)")
    rc, _, err = cli(*args, "--overwrite")
    assert rc == 1 and "is read-only; not replaced" in err


def test_predict_refuses_a_read_only_output_even_as_root(make_mdgm, tmp_path, monkeypatch):
    from mars_cloudmask_plugin.writers import check_replaceable
    target = tmp_path / "m.tif"
    target.write_bytes(b"x")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(CloudmaskError, match="is read-only; not replaced"):
        check_replaceable([target], overwrite=True)


# -- 5. signals ---------------------------------------------------------------------------------

def test_sigterm_on_a_running_batch_cleans_up_reports_and_exits_143(make_mdgm, tmp_path, tiny_model_path, repo_root):
    root = tmp_path / "archive"
    for day in range(1, 7):
        make_mdgm(f"P01_day0{day}", folder=root / "P01", seed=day % 2)
    out = tmp_path / "masks"
    exe = repo_root / ".venv" / "bin" / "mars-cloudmask"
    proc = subprocess.Popen([str(exe), "batch", str(root), "--out-dir", str(out), "--model", str(tiny_model_path),
                             "--tiling", "blend"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(out.rglob("*_cloudmask.tif")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr[-2000:]
    assert "interrupted after" in stdout and "run the same command again to resume" in stdout
    assert "mars-cloudmask: terminated" in stderr and "Traceback" not in stderr
    assert not list(out.rglob("*.partial")) and not list(out.rglob("*.claim"))
    done = {p.name.replace("_zequat_cloudmask.tif", "") for p in out.rglob("*_cloudmask.tif")}
    assert {p.name.replace("_zequat_cloudmask.nc", "") for p in out.rglob("*_cloudmask.nc")} == done  # whole sols


def test_sigint_still_exits_130(cli, monkeypatch, make_mdgm, tmp_path, tiny_model_path):
    from mars_cloudmask_plugin import pipeline

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(pipeline, "make_cloudmask", interrupted)
    rc, _, err = cli("predict", make_mdgm("P01_day10"), "--out-dir", tmp_path / "o", "--model", tiny_model_path)
    assert rc == 130 and "interrupted" in err


# -- 6. tables and models -----------------------------------------------------------------------

@pytest.mark.parametrize("lines, problem", [
    ("P01_day10  28  abc\n", "line 1 is malformed: Ls 'abc' is not a number"),
    ("P01_day01 28 130.0\nP01_day10  28\n", "line 2 is malformed: 'P01_day10 28' has 2 field(s)"),
    ("P01_day10  28  140,8\n", "decimal comma? write 140.8"),
    ("P01_day10 28 136.5\nP01_day10 28 140.8\n", "line 2 gives P01_day10 Mars year 28, Ls 140.8, but line 1"),
])
def test_malformed_or_contradicting_ls_lines_are_reported_with_file_and_line(make_mdgm, tmp_path, cli,
                                                                             tiny_model_path, lines, problem):
    source = make_mdgm("P01_day10", ls=None)
    table = source.parent / "P01_ls.txt"
    table.write_text(lines)
    rc, _, err = cli("predict", source, "--out-dir", tmp_path / "o", "--model", tiny_model_path)
    assert rc == 1 and len(err.strip().splitlines()) == 1 and str(table) in err and problem in err, err


def test_bom_crlf_and_tabs_in_the_ls_table_do_not_break_a_name(make_mdgm):
    from mars_cloudmask_plugin.archive import find_sol
    source = make_mdgm("P01_day10", ls=None)
    (source.parent / "P01_ls.txt").write_bytes("\ufeffP01_day10\t28\t136.500  \r\nP01_day11 28 137\r\n".encode())
    assert find_sol(source).ls == 136.5 and find_sol(source).mars_year == 28


def _model_with_metadata(tmp_path, source, edit):
    with zipfile.ZipFile(source) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(members["mars_cloudmask.json"])
    edit(meta)
    members["mars_cloudmask.json"] = json.dumps(meta).encode()
    path = tmp_path / "edited.keras"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@pytest.mark.parametrize("case, problem", [
    ("damaged", "cannot be loaded as a Keras model"),
    ("no margin", "model metadata lacks margin"),
    ("wrong inputs", "network does not match its metadata: it takes 3 input channels"),
    ("wrong margin", "network does not match its metadata: a 316 px tile gives"),
])
def test_a_bad_model_file_is_one_line_naming_it_when_it_loads(tiny_model_path, tmp_path, case, problem, make_mdgm,
                                                             cli):
    if case == "damaged":
        with zipfile.ZipFile(tiny_model_path) as zf:
            members = {n: zf.read(n) for n in zf.namelist()}
        path = tmp_path / "damaged.keras"
        with zipfile.ZipFile(path, "w") as zf:
            for name, blob in members.items():
                zf.writestr(name, blob[: len(blob) // 3] if name.endswith(".h5") else blob)
    else:
        edit = {"no margin": lambda m: m.pop("margin"), "wrong inputs": lambda m: m.update(inputs="rgb+latitude"),
                "wrong margin": lambda m: m.update(margin=60)}[case]
        path = _model_with_metadata(tmp_path, tiny_model_path, edit)
    rc, _, err = cli("predict", make_mdgm("P01_day10"), "--out-dir", tmp_path / "o", "--model", path)
    assert rc == 1 and len(err.strip().splitlines()) == 1 and str(path) in err and problem in err, err
    assert files_below(tmp_path / "o") == []


@pytest.mark.parametrize("flags, problem", [
    (("--tile-size", "400"), "the nearest are 396 or 412"),
    (("--buffer", "45"), "--buffer 45: must be between -30 and 30 degrees"),
    (("--threshold", "1"), "--threshold 1: must be between 0 and 1"),
])
def test_parameters_that_cannot_work_are_refused_before_the_model_loads(make_mdgm, tmp_path, cli, flags, problem,
                                                                       monkeypatch):
    from mars_cloudmask_plugin import model
    monkeypatch.setattr(model, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    rc, _, err = cli("predict", make_mdgm("P01_day10"), "--out-dir", tmp_path / "o", *flags)
    assert rc == 1 and problem in err, err


def test_every_tile_size_hint_is_itself_accepted():
    from mars_cloudmask_plugin.options import parse_tile_size
    for size in range(150, 1400, 7):
        try:
            parse_tile_size(size)
        except CloudmaskError as exc:
            hints = str(exc).split("the nearest are ")[1].split(" or ")
            assert all(parse_tile_size(int(h)) == int(h) for h in hints), exc
