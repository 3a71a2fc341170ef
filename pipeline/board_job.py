"""A self-contained job for a real SpiNNaker machine (docs/backends.md, 'A job for a board').

``python -m pipeline board-job --config C --seed S --out JOB --platform P`` writes JOB/:

- ``config.yaml`` -- the full checked config, the hardware protocol's settings included
  (``spinnaker.rebuild_every`` ...), ``readout.spiking: false`` (``spinnaker-hw`` holds no
  spiking-recall session) and the platform's machine keys;
- ``requirements.txt`` -- the versions of this environment, pinned;
- ``code/`` -- this project's ``pipeline`` and ``backends`` packages and its config files;
- ``run_job.py`` -- the entry point: checks the machine answers (local boards, within a
  time limit), refuses a run directory that already holds results, and runs
  ``python -m pipeline simulate --backend spinnaker-hw``, which writes the same run
  directory as every backend (spikes.nix, weights.npz, episodes.csv, translation.json,
  provenance.json);
- ``job.json`` -- what the job is and what was NOT executed when it was built;
- ``submission.json`` (platform ``ebrains``) -- the request for the EBRAINS Neuromorphic
  Computing Platform's client (``hbp-neuromorphic-platform``, ``nmpi.Client.submit_job``),
  built and checked as data; ``--submit`` sends it with the client if installed.

Platforms (a table): ``local`` (a board by IP or host name), ``spalloc`` (a spalloc server
and user), ``ebrains`` (the platform's own machine, a collab), ``virtual`` (sPyNNaker's
virtual board: the whole code path but no binary, for testing the job).
"""
from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import socket
import struct
from pathlib import Path

import yaml

from .config import ConfigError

ROOT = Path(__file__).resolve().parent.parent
RUN_FILES = ("spikes.nix", "weights.npz", "episodes.csv", "translation.json", "provenance.json")
# the packages the job imports (directly or through PyNN/sPyNNaker), pinned as installed
PINNED = ("sPyNNaker", "PyNN", "numpy", "scipy", "neo", "quantities", "nixio", "PyYAML",
          "jsonschema", "matplotlib")
SCAMP_PORT = 17893          # SpiNNaker boards answer SCP on this UDP port

# platform -> (config keys it needs, what each must be, machine keys it sets)
PLATFORMS: dict[str, dict] = {
    "local": {"needs": {"machine": "--machine <board IP or host name>"},
              "sets": lambda a: {"machine_name": a["machine"], "spalloc_server": None}},
    "spalloc": {"needs": {"spalloc_server": "--spalloc-server <URL>",
                          "spalloc_user": "--spalloc-user <name>"},
                "sets": lambda a: {"machine_name": None, "spalloc_server": a["spalloc_server"],
                                   "spalloc_user": a["spalloc_user"]}},
    "ebrains": {"needs": {"collab": "--collab <collab id>"},
                "sets": lambda a: {"machine_name": None, "spalloc_server": None}},
    "virtual": {"needs": {}, "sets": lambda a: {"machine_name": None, "spalloc_server": None}},
}
NMPI_PLATFORM = "SpiNNaker"     # nmpi.Client.submit_job's platform name for SpiNNaker
NMPI_KEYS = {"source": str, "platform": str, "collab_id": str, "command": str,
             "config": dict, "inputs": list, "tags": list}


class BoardJobError(ConfigError):
    """Bad input to the job builder or the job (one line, says what to change)."""


def probe_board(host: str, timeout_s: float = 3.0) -> None:
    """Send one SCP 'version' request (CMD_VER) to ``host``'s SpiNNaker port and wait up
    to ``timeout_s`` for any answer; BoardJobError if none comes (refused, unreachable or
    silent)."""
    # 2 bytes padding, SDP header (flags 0x87 = reply expected, tag 0xFF, to port 0 cpu 0
    # of chip (0, 0), from the host), SCP command 0 (CMD_VER), sequence 0, 3 arguments
    packet = struct.pack("<2x8BHHIII", 0x87, 0xFF, 0, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout_s)
            s.connect((host, SCAMP_PORT))
            s.send(packet)
            s.recv(512)
    except socket.timeout:
        raise BoardJobError(f"the SpiNNaker board '{host}' did not answer within {timeout_s:g} s "
                            f"(UDP port {SCAMP_PORT}): check that it is powered and booted "
                            f"and the address (--machine), or raise --timeout") from None
    except OSError as err:
        raise BoardJobError(f"the SpiNNaker board '{host}' does not answer (UDP port "
                            f"{SCAMP_PORT}: {err.strerror or err}): check the address "
                            f"(--machine) and the network") from None


def refuse_results(directory: Path, what: str) -> None:
    """BoardJobError if ``directory`` exists and is not empty (nothing is overwritten)."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BoardJobError(f"{what} '{directory}' already holds files: choose a new "
                            f"directory (nothing was overwritten)")


def pinned_requirements() -> list[str]:
    """Return 'name==version' for every package of PINNED installed here."""
    out = []
    for name in PINNED:
        try:
            out.append(f"{name}=={md.version(name)}")
        except md.PackageNotFoundError:
            continue
    return out


def job_config(cfg: dict, platform: str, args: dict) -> dict:
    """Return the job's config: ``cfg`` with the platform's machine keys and the spiking
    recall off. BoardJobError for an unknown platform or a missing platform argument."""
    import copy

    if platform not in PLATFORMS:
        raise BoardJobError(f"unknown platform '{platform}' (--platform): choose one of "
                            f"{', '.join(PLATFORMS)}")
    spec = PLATFORMS[platform]
    missing = [flag for key, flag in spec["needs"].items() if not args.get(key)]
    if missing:
        raise BoardJobError(f"platform '{platform}' needs {' and '.join(missing)}")
    out = copy.deepcopy(cfg)
    out["spinnaker"].update({k: v for k, v in spec["sets"](args).items()})
    out["spinnaker"] = {k: v for k, v in out["spinnaker"].items() if v is not None}
    out["readout"]["spiking"] = False
    return out


def submission_request(job: Path, collab: str, cfg: dict, seed: int) -> dict:
    """Return the keyword arguments of ``nmpi.Client.submit_job`` for the job directory
    (the client uploads ``source`` and runs ``command`` on the platform)."""
    return {"source": str(job.resolve()), "platform": NMPI_PLATFORM, "collab_id": str(collab),
            "command": "run_job.py {system}", "inputs": [],
            "config": {"spynnaker_version": _version("sPyNNaker")},
            "tags": ["stdp-capacity", f"seed-{seed}",
                     f"rebuild_every-{cfg['spinnaker'].get('rebuild_every', 0)}"]}


def check_request(req: dict) -> None:
    """BoardJobError unless ``req`` is a complete submission request: every key of
    NMPI_KEYS with its type, the SpiNNaker platform, a source directory holding the
    command's script, config.yaml and code/."""
    for key, typ in NMPI_KEYS.items():
        if not isinstance(req.get(key), typ):
            raise BoardJobError(f"submission request: '{key}' must be a {typ.__name__}")
    if req["platform"] != NMPI_PLATFORM:
        raise BoardJobError(f"submission request: platform '{req['platform']}' is not "
                            f"{NMPI_PLATFORM}")
    src = Path(req["source"])
    script = req["command"].split()[0]
    for need in (script, "config.yaml", "code/pipeline/__init__.py",
                 "code/backends/__init__.py", "requirements.txt"):
        if not (src / need).exists():
            raise BoardJobError(f"submission request: '{src / need}' is missing")


def _version(name: str) -> str | None:
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


ENTRY_POINT = '''#!/usr/bin/env python3
"""Entry point of a stdp-capacity job for a SpiNNaker machine (written by
`python -m pipeline board-job`; see job.json). Usage: python run_job.py [SYSTEM] [--out DIR]
[--timeout S]. Writes the run directory DIR (default: run) as every backend does."""
import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "code"))

from pipeline import board_job  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("system", nargs="?", help="the platform's system name (EBRAINS passes it)")
ap.add_argument("--out", default=str(HERE / "run"))
ap.add_argument("--timeout", type=float, default=10.0, help="seconds a board has to answer")
args = ap.parse_args()
sys.exit(board_job.run_entry(HERE, Path(args.out), args.timeout))
'''


def run_entry(job: Path, out: Path, timeout_s: float) -> int:
    """The job's entry point: one line and exit status 2 for bad input, else simulate
    with spinnaker-hw into ``out`` (see ENTRY_POINT)."""
    import sys

    from .cli import main
    try:
        refuse_results(out, "the run directory")
        meta = json.loads((job / "job.json").read_text())
        cfg_path = job / "config.yaml"
        if meta["platform"] == "local":
            cfg = yaml.safe_load(cfg_path.read_text())
            probe_board(cfg["spinnaker"]["machine_name"], timeout_s)
        if meta["platform"] == "ebrains":
            cfg_path = _with_platform_machine(job, cfg_path)
    except BoardJobError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"[board-job] platform {meta['platform']}, seed {meta['seed']}: "
          f"{meta['hardware_protocol']}", file=sys.stderr, flush=True)
    return main(["simulate", "--backend", "spinnaker-hw", "--config", str(cfg_path),
                 "--seed", str(meta["seed"]), "--out", str(out)])


def _with_platform_machine(job: Path, cfg_path: Path) -> Path:
    """On the EBRAINS platform the machine comes from the host's sPyNNaker config
    (~/.spynnaker.cfg): copy its machine_name or spalloc_server into the job's config."""
    import configparser

    host_cfg = Path.home() / ".spynnaker.cfg"
    cp = configparser.ConfigParser()
    cp.read(host_cfg)
    machine = {k: cp.get("Machine", k, fallback=None) for k in
               ("machine_name", "spalloc_server", "spalloc_user")}
    if not (machine["machine_name"] or machine["spalloc_server"]):
        raise BoardJobError(f"no SpiNNaker machine is configured on this host ('{host_cfg}' "
                            f"has no [Machine] machine_name or spalloc_server): run the job "
                            f"on the EBRAINS platform, or build it with --platform local")
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["spinnaker"].update({k: v for k, v in machine.items() if v})
    path = job / "config-platform.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def build_job(cfg: dict, seed: int, out: Path, platform: str, args: dict,
              timeout_s: float = 3.0, submit: bool = False) -> dict:
    """Write the job directory ``out`` (see the module doc) and return job.json's content.
    BoardJobError (one line) for an unknown platform, a missing platform argument, a
    local board that does not answer within ``timeout_s``, missing credentials for
    ``submit``, or an ``out`` that already holds files."""
    from .io import write_json, write_text
    from .simulate import check_seed

    seed = check_seed(seed)
    out = Path(out)
    refuse_results(out, "the job directory")
    jcfg = job_config(cfg, platform, args)
    token = os.environ.get("EBRAINS_TOKEN")
    if submit and platform != "ebrains":
        raise BoardJobError(f"--submit sends the job to the EBRAINS platform: use "
                            f"--platform ebrains (not '{platform}')")
    if submit and not token:
        raise BoardJobError("no credentials: --submit needs an EBRAINS access token in the "
                            "environment variable EBRAINS_TOKEN")
    if platform == "local":
        probe_board(jcfg["spinnaker"]["machine_name"], timeout_s)
    out.mkdir(parents=True, exist_ok=True)
    code = out / "code"
    for pkg in ("pipeline", "backends"):
        shutil.copytree(ROOT / pkg, code / pkg,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(ROOT / "config", code / "config",
                    ignore=shutil.ignore_patterns("profiles", "__pycache__"))
    write_text(out / "config.yaml", yaml.safe_dump(jcfg, sort_keys=False))
    write_text(out / "requirements.txt", "\n".join(pinned_requirements()) + "\n")
    write_text(out / "run_job.py", ENTRY_POINT)
    sp = jcfg["spinnaker"]
    protocol = (f"hardware protocol, rebuild every {sp.get('rebuild_every', 0)} episodes "
                f"(homeostasis there), stdp_depression {sp.get('stdp_depression', 'exact')}, "
                f"{jcfg['protocol']['episodes']} episodes")
    meta = {"platform": platform, "seed": seed, "backend": "spinnaker-hw",
            "hardware_protocol": protocol, "entry_point": "python run_job.py [--out DIR]",
            "writes": list(RUN_FILES),
            "then": "python -m pipeline capacity --run DIR ...; analyze; validate (as a "
                    "'spinnaker-hw' run)",
            "spiking_recall": "off: spinnaker-hw holds no recall session (a board would need "
                              "a load of its own with static synapses)",
            "not_executed": "built here without a board: nothing of this job ran on SpiNNaker "
                            "hardware" + (" and it was not submitted" if not submit else "")}
    if platform == "ebrains":
        req = submission_request(out, args["collab"], jcfg, seed)
        check_request(req)
        write_json(out / "submission.json", req)
        meta["submission"] = "submission.json: the keyword arguments of nmpi.Client.submit_job"
    write_json(out / "job.json", meta)
    if submit:
        meta["submitted_job"] = _submit(req, token)
        meta["not_executed"] = "submitted; its run on the platform is not part of this build"
        write_json(out / "job.json", meta)
    return meta


def _submit(req: dict, token: str) -> str:
    """Send the request with the EBRAINS client; return the job's id or URI."""
    try:
        import nmpi
    except ImportError:
        raise BoardJobError("the EBRAINS client is not installed (pip install "
                            "hbp-neuromorphic-platform); the job directory and "
                            "submission.json are ready to submit by hand") from None
    client = nmpi.Client(token=token)
    return str(client.submit_job(**req))
