"""The set-up script is idempotent: run again on a ready machine, it installs and changes nothing."""
import os
import subprocess
import time

import pytest


def test_second_setup_run_changes_nothing(repo_root):
    if not (repo_root / ".venv" / ".mars-cloudmask-setup").exists():
        pytest.skip("the set-up script has not been run in this checkout")
    started = time.time() - 1
    proc = subprocess.run(["bash", str(repo_root / "scripts" / "setup.sh")], capture_output=True, text=True,
                          timeout=300, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert proc.returncode == 0, proc.stderr
    assert "installing" not in proc.stdout and "apt-installing" not in proc.stdout and "creating" not in proc.stdout
    assert "setup: ready (TensorFlow 2.17.1 / QGIS 3.22" in proc.stdout
    changed = [p for p in (repo_root / ".venv").rglob("*") if p.is_file() and not p.is_symlink()
               and p.stat().st_mtime > started and "__pycache__" not in p.parts]
    assert changed == []


def _tensorflow_requirement(repo_root, tmp_path, gpu, choice=None):
    """What tensorflow_requirement.sh prints with (or without) an `nvidia-smi` that lists a GPU."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "nvidia-smi"
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: GPU-0)'\n" if gpu else "#!/bin/sh\nexit 9\n")
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    if choice:
        env["MARS_CLOUDMASK_TF"] = choice
    return subprocess.run(["bash", str(repo_root / "scripts" / "tensorflow_requirement.sh")], env=env,
                          capture_output=True, text=True)


def test_tensorflow_requirement_is_the_cuda_build_where_a_gpu_answers(repo_root, tmp_path):
    assert _tensorflow_requirement(repo_root, tmp_path, gpu=True).stdout.strip() == "tensorflow[and-cuda]==2.17.1"


def test_tensorflow_requirement_is_the_cpu_build_without_a_gpu(repo_root, tmp_path):
    assert _tensorflow_requirement(repo_root, tmp_path, gpu=False).stdout.strip() == "tensorflow-cpu==2.17.1"


def test_tensorflow_build_can_be_forced_and_a_wrong_choice_is_refused(repo_root, tmp_path):
    assert _tensorflow_requirement(repo_root, tmp_path, gpu=True, choice="cpu").stdout.strip() == "tensorflow-cpu==2.17.1"
    assert _tensorflow_requirement(repo_root, tmp_path, gpu=False, choice="cuda").stdout.strip() == \
        "tensorflow[and-cuda]==2.17.1"
    wrong = _tensorflow_requirement(repo_root, tmp_path, gpu=False, choice="rocm")
    assert wrong.returncode == 2 and "MARS_CLOUDMASK_TF must be cpu, cuda or auto" in wrong.stderr


def test_setup_installed_the_tensorflow_build_the_requirement_script_names(repo_root):
    if not (repo_root / ".venv" / ".mars-cloudmask-setup").exists():
        pytest.skip("the set-up script has not been run in this checkout")
    wanted = subprocess.run(["bash", str(repo_root / "scripts" / "tensorflow_requirement.sh")], capture_output=True,
                            text=True, check=True).stdout.strip()
    name, version = wanted.split("[")[0].split("==")
    installed = subprocess.run([str(repo_root / ".venv" / "bin" / "python"), "-c",
                                f"import importlib.metadata as m; print(m.version({name!r}))"],
                               capture_output=True, text=True)
    assert installed.returncode == 0, f"{name} is not installed in .venv: {installed.stderr[-300:]}"
    assert installed.stdout.strip() == version
