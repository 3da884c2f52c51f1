"""Run every benchmark script under benchmarks/ and write their tables into one Markdown page.

Each script runs as a subprocess (PYTHONPATH=src) with its quick settings (below; `--full` uses the
scripts' own defaults); its printed output is copied under a heading with the exact command, its wall
time and its exit status. The page is regenerated as a whole, so every section comes from this run.
The header gives the date (UTC), the machine (cores, CPU model, RAM) and the load average, because
the CPU may be shared with other jobs.

`accuracy.py` (fast vs heavy models) runs with its defaults: the first run trains four models (about
25 minutes on a quiet 2-core CPU); later runs reuse the finished models in runs/bench-accuracy.

    python benchmarks/run_all.py --out docs/performance.md
    python benchmarks/run_all.py --out /tmp/perf.md --only decode features --full
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Quick settings per script (read from each script's --help); scripts not listed run with no arguments.
QUICK_ARGS: dict[str, list[str]] = {
    "decode.py": ["--seconds", "4", "--repeats", "1"],
    "features.py": ["--frames", "50", "--tips"],
    "models.py": ["--repeats", "1"],
    "training.py": ["--steps", "2", "--warmup", "1"],
    "analyze.py": ["--seconds", "4", "--deeplab-frames", "2", "--memory-seconds", "10"],
}


def scripts(only: list[str] | None) -> list[Path]:
    """Every benchmark script (sorted), this one excluded; `only` keeps the named ones (with or without .py)."""
    found = [p for p in sorted(HERE.glob("*.py")) if p.name != Path(__file__).name and not p.name.startswith("_")]
    if only:
        wanted = {n if n.endswith(".py") else f"{n}.py" for n in only}
        missing = wanted - {p.name for p in found}
        if missing:
            raise SystemExit(f"error: no benchmark script(s) {sorted(missing)} in {HERE}; "
                             f"available: {[p.name for p in found]}")
        found = [p for p in found if p.name in wanted]
    return found


def machine() -> str:
    """Cores, CPU model, RAM, load average, Python and torch versions (one Markdown line each)."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
        ram = f"{kb / 1024 ** 2:.1f} GiB"
    except (OSError, StopIteration):
        pass
    try:
        import torch

        torch_v = f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}"
    except ImportError:
        torch_v = "torch not installed"
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return "\n".join([f"- cores (nproc): {os.cpu_count()}", f"- CPU: {cpu}", f"- RAM: {ram}",
                      f"- load average (1/5/15 min) at start: {load}",
                      f"- Python {platform.python_version()}, {torch_v}, {platform.platform()}"])


def run_script(path: Path, args: list[str], timeout: float) -> tuple[str, int, float, str]:
    """(command shown in the docs, exit status, wall seconds, combined output)."""
    shown = "PYTHONPATH=src python " + " ".join(shlex.quote(a) for a in [f"benchmarks/{path.name}", *args])
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.time()
    try:
        proc = subprocess.run([sys.executable, str(path), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
        code, output = proc.returncode, proc.stdout + (f"\n[stderr]\n{proc.stderr[-3000:]}" if proc.returncode else "")
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        code, output = 124, out + f"\n[timed out after {timeout:.0f} s]"
    return shown, code, time.time() - start, output


def section(path: Path, shown: str, code: int, seconds: float, output: str) -> str:
    """A page section: the command, status and time, then the script's output (Markdown kept as is)."""
    status = "ok" if code == 0 else f"FAILED (exit status {code})"
    body = output.strip()
    has_markdown = any(line.lstrip().startswith("|") for line in body.splitlines())
    if not has_markdown or code != 0:
        body = f"```text\n{body}\n```"
    return f"## {path.stem}\n\n`{shown}`  \n{status}, {seconds:.0f} s wall.\n\n{body}\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/performance.md", help="Markdown page to write")
    ap.add_argument("--only", nargs="*", help="run only these scripts (e.g. decode features)")
    ap.add_argument("--full", action="store_true", help="run each script with its own defaults (slower)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per script before it is stopped")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from oocyteseg.io.atomic import write_text

    started = dt.datetime.now(dt.timezone.utc)
    header = [f"# Performance\n", "Generated by `python benchmarks/run_all.py "
              + " ".join(shlex.quote(a) for a in sys.argv[1:]) + f"` on {started:%Y-%m-%d %H:%M} UTC "
              "(`date -u`). Every table below is the printed output of the command above it, from this run.\n",
              "## Machine\n", machine(), ""]
    sections, failed = [], 0
    for path in scripts(args.only):
        extra = [] if args.full else QUICK_ARGS.get(path.name, [])
        print(f"running {path.name} {' '.join(extra)}", flush=True)
        shown, code, seconds, output = run_script(path, extra, args.timeout)
        failed += code != 0
        print(f"  exit {code}, {seconds:.0f} s", flush=True)
        sections.append(section(path, shown, code, seconds, output))
    finished = dt.datetime.now(dt.timezone.utc)
    footer = f"Finished {finished:%Y-%m-%d %H:%M} UTC; {len(sections)} script(s), {failed} failed.\n"
    write_text(Path(args.out), "\n".join(header) + "\n" + "\n".join(sections) + "\n" + footer, overwrite=True)
    print(f"written: {args.out}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
