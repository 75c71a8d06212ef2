"""The JupyterLab front end is installed: in this environment, and from a wheel without node.

`make venv` builds ``labextension/`` into ``rustmemodb_lab/labextension/`` and links it
with ``jupyter labextension develop``; the first test asks this environment's JupyterLab
whether the extension is there and enabled. The second builds the wheel the way a
release would (``pip wheel . --no-deps``, through the hatch-jupyter-builder hook), checks
that it carries the prebuilt extension under ``share/jupyter/labextensions/``, installs
it into an otherwise empty virtualenv (which borrows this environment's site-packages for
JupyterLab itself) and asks that JupyterLab: installing the package needs no node.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = "rustmemodb-lab"
SHARE = f"share/jupyter/labextensions/{NAME}"


def labextension_list(python: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([python, "-m", "jupyterlab.labextensions", "list"], capture_output=True,
                          text=True, timeout=120, env=env)
    return re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)


def enabled_line(listing: str) -> str:
    lines = [line for line in listing.splitlines() if line.strip().startswith(NAME + " ")]
    assert lines, f"{NAME} is not installed:\n{listing}"
    return lines[0]


def test_extension_is_enabled_in_this_environment():
    line = enabled_line(labextension_list(sys.executable))
    assert "enabled" in line and "OK" in line, line


def test_wheel_ships_the_prebuilt_extension(tmp_path):
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = wheels.glob("rustmemodb_lab-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        data = next(n for n in names if n.endswith(f".data/data/{SHARE}/package.json"))
        manifest = json.loads(zf.read(data))
        remote = manifest["jupyterlab"]["_build"]["load"]
    prefix = data[: -len("package.json")]
    assert manifest["name"] == NAME
    assert prefix + remote in names, f"{remote} missing from the wheel"
    assert prefix + "static/style.js" in names
    assert prefix + "install.json" in names

    # An empty venv that sees this environment's packages (JupyterLab, the engine) but has
    # its own prefix, so only the wheel can put the extension into its share/jupyter.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "_outer_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
                                str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    assert (venv / SHARE / "package.json").is_file()
    env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_PATH", "JUPYTER_DATA_DIR", "PYTHONPATH")}
    listing = labextension_list(python, env)
    line = enabled_line(listing)
    assert "enabled" in line and "OK" in line, line
    assert str(venv / "share" / "jupyter" / "labextensions") in listing
