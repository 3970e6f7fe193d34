"""An installed wheel finds its built-in sets from any directory (issue 2, point 1)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from ketaprep.loader import SetLibrary

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603


@pytest.mark.slow
def test_an_installed_wheel_lists_the_built_in_sets_from_any_directory(tmp_path: Path) -> None:
    """Build the wheel, install it alone (no network: hatchling and the dependencies come from this
    environment) into a fresh venv, and run `ketaprep sets` and a render from an empty directory."""
    dist = tmp_path / "dist"
    built = run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(dist)], ROOT)
    assert built.returncode == 0, built.stderr[-2000:]
    wheels = list(dist.glob("ketaprep-*.whl"))
    assert len(wheels) == 1, [p.name for p in dist.iterdir()]

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", str(wheels[0])],
        tmp_path,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    # The dependencies come from this test environment: a .pth line adds its site-packages after the
    # venv's own (plain path lines do not run that directory's .pth files, so no editable ketaprep).
    # Written after the install, or pip would see this environment's ketaprep and install nothing.
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path)
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "test-deps.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KETAPREP_CLINIC", "KETAPREP_SETS")}
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = run([str(python), "-c", "import ketaprep.loader as l; print(l.__file__); print(l.builtin_dir())"], elsewhere, env)
    assert where.returncode == 0, where.stderr
    module_file, builtin = where.stdout.split()
    assert str(env_dir) in module_file, "the test must run the installed wheel, not the checkout"
    assert Path(builtin).is_relative_to(env_dir) and Path(builtin).is_dir()

    listed = run([str(env_dir / "bin" / "ketaprep"), "sets"], elsewhere, env)
    assert listed.returncode == 0, listed.stderr
    ids = [line.split()[0] for line in listed.stdout.splitlines()[1:] if line.strip()]
    assert ids == sorted(SetLibrary().files())

    rendered = run(
        [str(env_dir / "bin" / "ketaprep"), "render", "--start", "09:00", "--date", "2026-11-24", "--format", "json"],
        elsewhere,
        env,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert '"at": "2026-11-24T01:00:00-05:00"' in rendered.stdout
