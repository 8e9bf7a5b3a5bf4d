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
