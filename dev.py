#!/usr/bin/env python3
"""The developer's entry point: set up .venv, then start the service or run the tests.

    python3 dev.py up [serve args...]      .venv, then caseledger serve on 127.0.0.1:8000
    python3 dev.py test [pytest args...]   .venv, then python -m pytest (from the repo root)
    python3 dev.py setup                   .venv only
    python3 dev.py bench [args...]         .venv, then python -m bench
    python3 dev.py bench-trees --against DIR   .venv, then python -m bench.trees (two trees, paired)

Needs Python 3.11+ and the package registry, nothing else: only the standard
library here. .venv is created with ``python -m venv`` when missing or broken;
requirements.lock is installed (``--require-hashes``) only when it changed since
the last install, and the project itself (``--no-deps -e .``) only when the lock
or pyproject.toml changed: a stamp inside .venv remembers both hashes.
"""

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
VENV = os.path.join(ROOT, ".venv")
BIN = os.path.join(VENV, "bin")
PYTHON = os.path.join(BIN, "python")
STAMP = os.path.join(VENV, ".caseledger-installed.json")
MIN_PYTHON = (3, 11)

USAGE = __doc__.split("\n\n")[1].rstrip() + "\n"
# pip here warns about every missing mirror folder of its config; noise, not news
PIP_NOISE = re.compile(r"^WARNING: Location '.*' is ignored: ")


def say(message):
    print("dev.py: " + message, file=sys.stderr, flush=True)


def fail(message, code=1):
    say(message)
    sys.exit(code)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_quiet(args, what):
    """Run a command with its output held back; show it (minus pip's noise) if it fails."""
    env = dict(os.environ, PIP_NO_INPUT="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        args,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    if done.returncode != 0:
        kept = [line for line in done.stdout.splitlines() if not PIP_NOISE.match(line)]
        sys.stderr.write("\n".join(kept[-60:]) + "\n")
        fail(f"{what} failed (exit {done.returncode})", done.returncode)


def venv_works():
    if not os.path.exists(PYTHON):
        return False
    check = f"import sys; sys.exit(0 if sys.version_info >= {MIN_PYTHON!r} else 1)"
    quiet = {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
    }
    try:
        done = subprocess.run([PYTHON, "-c", check], **quiet)
    except OSError:  # a dangling interpreter link: a venv made on another machine
        return False
    return done.returncode == 0


def ensure_venv():
    if venv_works():
        return
    if os.path.lexists(VENV):
        say("rebuilding .venv: its interpreter does not run here")
        shutil.rmtree(VENV)
    say(f"creating .venv with {sys.executable} (Python {sys.version.split()[0]})")
    hint = "python -m venv (on Debian/Ubuntu: apt install python3-venv)"
    run_quiet([sys.executable, "-m", "venv", VENV], hint)


def read_stamp():
    try:
        with open(STAMP) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def write_stamp(stamp):
    with open(STAMP + ".tmp", "w") as f:
        json.dump(stamp, f)
    os.replace(STAMP + ".tmp", STAMP)


def ensure_installed():
    want = {
        "lock": sha256(os.path.join(ROOT, "requirements.lock")),
        "project": sha256(os.path.join(ROOT, "pyproject.toml")),
    }
    have = read_stamp()
    if have == want:
        return
    started = time.monotonic()
    pip = [PYTHON, "-m", "pip", "install", "-q"]
    if have.get("lock") != want["lock"]:
        why = "requirements.lock changed" if have else "first install, about a minute"
        say(f"installing requirements.lock into .venv: {why}")
        lock = ["--require-hashes", "-r", "requirements.lock"]
        run_quiet([*pip, *lock], "pip install -r requirements.lock")
    say("installing caseledger into .venv (editable)")
    run_quiet([*pip, "--no-deps", "-e", "."], "pip install --no-deps -e .")
    write_stamp(want)
    say(f".venv ready in {time.monotonic() - started:.0f} s")


def setup():
    """Bring .venv up to date; one dev.py at a time (a lock on this file)."""
    with open(os.path.abspath(__file__), "rb") as me:
        fcntl.flock(me, fcntl.LOCK_EX)
        ensure_venv()
        ensure_installed()


def run(program, args):
    """Replace this process with ``program`` from .venv, .venv first on PATH."""
    env = dict(os.environ, VIRTUAL_ENV=VENV, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    env.pop("PYTHONHOME", None)
    sys.stderr.flush()
    os.execve(program, [program, *args], env)


def main(argv):
    if sys.version_info < MIN_PYTHON:
        wanted = ".".join(map(str, MIN_PYTHON))
        fail(f"needs Python {wanted} or newer; this is {sys.version.split()[0]}")
    if not argv or argv[0] in ("-h", "--help", "help"):
        (sys.stdout if argv else sys.stderr).write(USAGE)
        sys.exit(0 if argv else 2)
    command, args = argv[0], argv[1:]
    if command not in ("up", "test", "setup", "bench", "bench-trees"):
        sys.stderr.write(f"unknown command {command!r}\n{USAGE}")
        sys.exit(2)
    os.chdir(ROOT)
    try:
        setup()
    except KeyboardInterrupt:
        fail("interrupted; the next run starts the install again", 130)
    if command == "up":
        serve = ["serve", "--host", "127.0.0.1", "--port", "8000", *args]
        say("caseledger " + " ".join(serve))
        run(os.path.join(BIN, "caseledger"), serve)
    elif command == "test":
        run(PYTHON, ["-m", "pytest", *args])
    elif command == "bench":
        run(PYTHON, ["-m", "bench", *args])
    elif command == "bench-trees":
        run(PYTHON, ["-m", "bench.trees", *args])


if __name__ == "__main__":
    main(sys.argv[1:])
