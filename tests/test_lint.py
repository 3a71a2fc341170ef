"""The Snakefile is `snakemake --lint` clean (docs/design.md section 2), checked in CI."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_snakemake_lint_is_clean(tmp_path):
    exe = Path(sys.executable).with_name("snakemake")
    r = subprocess.run([str(exe), "--lint", "-s", str(ROOT / "Snakefile"), "--directory",
                        str(tmp_path), "--configfile", str(ROOT / "config" / "default.yaml")],
                       capture_output=True, text=True)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "Congratulations" in out, out[-3000:]
