#!/usr/bin/env python3
"""xgrad against libtorch, side by side (`./run.sh compare` builds the programs and runs this).

For each workload and thread count it runs xgrad_compare and torch_compare alternately (A B A B ...),
each run a fresh process that times one workload and reports its median seconds per iteration and its
max RSS; it takes the median over the rounds. In the first round libtorch runs once under each of its
environment configs (CONFIGS below); the fastest is kept for the other rounds and reported by name.
Before the table it prints the machine's limits (bare cblas_sgemm, STREAM triad: best of several
passes) from compare_limits.

Writes to --out-dir (benchmarks/results):
  compare.csv         workload,threads,xgrad_s,libtorch_s,ratio        (the table, seconds per iteration)
  compare_detail.csv  the same rows with rates, % of limits, RSS, the libtorch config, targets
  compare.svg         the ratios as a bar chart
  compare.md          the machine and the table in Markdown, for the README
  compare_runs.csv    every single run (scratch)
Python 3 standard library only.
"""
import argparse
import csv
import datetime
import html
import math
import os
import platform
import statistics
import subprocess
import sys
import time

# libtorch's environments: name -> (environment, lowest thread count it is tried at). Every run of
# either program also gets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS equal to the thread count (the
# programs set their pools through the APIs as well).
# - malloc: libtorch allocates every tensor with glibc's malloc, which maps each block above its
#   mmap threshold afresh and unmaps it on free; on this VM every first touch of a page costs tens of
#   microseconds, so a training step of small GEMMs pays page faults each iteration. Raising the mmap
#   and trim thresholds keeps freed blocks in the heap (what jemalloc or tcmalloc users get).
#   xgrad keeps glibc's defaults: its storage recycles large blocks itself.
# - passive: on 2 cores, libtorch's OpenMP pool and OpenBLAS's pthread pool can spin against each
#   other: OpenMP threads spin after each parallel region unless OMP_WAIT_POLICY=PASSIVE.
# - blas_sleep: OpenBLAS workers spin 2^OPENBLAS_THREAD_TIMEOUT cycles (default 2^28, ~0.1 s) after a
#   GEMM before sleeping; 4 makes them sleep at once.
# At 1 thread nothing spins (one OpenMP thread; OpenBLAS runs on the caller), so those start at 2.
MALLOC = {"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296"}
CONFIGS = {
    "default": ({}, 1),
    "malloc": (MALLOC, 1),
    "passive": ({"OMP_WAIT_POLICY": "PASSIVE"}, 2),
    "malloc+passive": ({**MALLOC, "OMP_WAIT_POLICY": "PASSIVE"}, 2),
    "malloc+passive+blas_sleep": ({**MALLOC, "OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}, 2),
}
DEFAULT_CONFIGS = "default,malloc,malloc+passive,malloc+passive+blas_sleep"
SCRUBBED_ENV = ("GLIBC_TUNABLES", "OMP_WAIT_POLICY", "OPENBLAS_THREAD_TIMEOUT", "GOMP_SPINCOUNT", "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_PROC_BIND", "OMP_PLACES")

# The targets the lead works towards: ratio xgrad/libtorch at most `ratio`; `limit_pct`: xgrad's rate
# at least this % of the machine's limit (sgemm for FLOP/s, triad for GB/s).
TARGETS = {
    "small_ops": {"ratio": 0.3},
    "mlp_step": {"ratio": 0.8, "rss": True},
    "elementwise_large": {"ratio": 0.8, "limit_pct": 60},
    "reduce_axis0": {"ratio": 1.0},
    "reduce_axis1": {"ratio": 1.0},
    "matmul_fwd": {"ratio": 1.02, "limit_pct": 90},
    "matmul_fwdbwd": {"ratio": 1.02, "limit_pct": 90},
}


def parse_line(prefix, text):
    """The key=value fields of the last line of `text` starting with `prefix`."""
    fields = None
    for line in text.splitlines():
        if line.startswith(prefix + " "):
            fields = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    return fields


# Variables that pin OpenBLAS to one kernel family. Some machines set them globally (older OpenBLAS
# builds misbehave on some processors); with --blas-kernel native (the default) every program here,
# xgrad, libtorch and the limits alike, runs without them, on the kernel OpenBLAS picks for this CPU.
BLAS_PIN_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SCRUB_BLAS_PIN = True


def run_env(threads, extra):
    scrubbed = SCRUBBED_ENV + (BLAS_PIN_ENV if SCRUB_BLAS_PIN else ())
    env = {k: v for k, v in os.environ.items() if k not in scrubbed}
    env.update({"OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads)})
    env.update(extra)
    return env


def run_workload(program, workload, threads, env, args):
    cmd = [program, "--workload", workload, "--threads", str(threads), "--reps", str(args.reps),
           "--warmup", str(args.warmup), "--block", str(args.block)]
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    fields = parse_line("RESULT", proc.stdout)
    if fields is None or proc.returncode != 0:
        sys.stderr.write(f"run_compare: {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}\n")
        return {"status": "error"}
    return fields


def machine_info(torch_program):
    info = {"date": datetime.date.today().isoformat(), "cores": str(os.cpu_count())}
    cpu, simd = "", ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not cpu:
                    cpu = line.split(":", 1)[1].strip()
                elif line.startswith("flags") and not simd:
                    flags = line.split(":", 1)[1].split()
                    simd = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "-"
    except OSError:
        pass
    info["cpu"] = (cpu or platform.machine()) + (f" ({simd})" if simd not in ("", "-") else "")
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    info["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        info["os"] = platform.system()
    info["kernel"] = platform.release()
    try:
        info["libtorch"] = subprocess.run([torch_program, "--version"], capture_output=True, text=True,
                                          timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        info["libtorch"] = "libtorch ?"
    info["load"] = "%.2f" % os.getloadavg()[0]
    return info


def limits(program, thread_counts):
    out = subprocess.run([program] + [str(t) for t in thread_counts], capture_output=True, text=True,
                         env=run_env(1, {}), timeout=600)
    if out.returncode != 0:
        sys.exit(f"run_compare: {program} failed: {out.stderr}")
    result, openblas = {}, ""
    for line in out.stdout.splitlines():
        if line.startswith("LIMIT "):
            f = dict(kv.split("=", 1) for kv in line.split()[1:])
            result[(f["name"], int(f["threads"]))] = float(f["value"])
        elif line.startswith("INFO openblas="):
            openblas = line.split("=", 1)[1].strip()
    return result, openblas


def blas_kernel_text(openblas):
    """Which OpenBLAS kernel family ran, from its config string ("... Cooperlake MAX_THREADS=64")."""
    words = openblas.split()
    kernel = next((words[i - 1] for i, w in enumerate(words) if w.startswith("MAX_THREADS") and i > 0), "?")
    how = "its choice for this CPU" if SCRUB_BLAS_PIN else "as the environment's OPENBLAS_CORETYPE sets it"
    return f"{kernel} kernels, {how}"


def floors_text(lim, threads):
    """elementwise_large written by hand (compare_limits): what one pass per op, and a fused chain, reach."""
    return (f"elementwise_large by hand: unfused {lim.get(('elementwise_unfused', threads), 0):.2f} GB/s, "
            f"fused {lim.get(('elementwise_fused', threads), 0):.2f} GB/s")


def rate(work, seconds, lim, threads):
    """(text, value, unit, % of limit or None) of one program's median."""
    if seconds is None or seconds <= 0:
        return "", None, "", None
    if float(work.get("flops", 0)) > 0:
        g = float(work["flops"]) / seconds / 1e9
        limit = lim.get(("sgemm", threads))
        return f"{g:.1f} GFLOP/s", g, "GFLOP/s", (100 * g / limit if limit else None)
    if float(work.get("bytes", 0)) > 0:
        g = float(work["bytes"]) / seconds / 1e9
        limit = lim.get(("triad", threads))
        return f"{g:.2f} GB/s", g, "GB/s", (100 * g / limit if limit else None)
    if float(work.get("ops", 0)) > 0:
        us = seconds / float(work["ops"]) * 1e6
        return f"{us:.3f} us/op", us, "us/op", None
    return "", None, "", None


def target_check(row):
    t = TARGETS.get(row["workload"])
    if not t or row["ratio"] is None:
        return "", None
    parts, ok = [f"<={t['ratio']}"], row["ratio"] <= t["ratio"]
    if "limit_pct" in t:
        parts.append(f">={t['limit_pct']}%lim")
        ok = ok and row["xgrad_pct"] is not None and row["xgrad_pct"] >= t["limit_pct"]
    if t.get("rss"):
        parts.append("rss<=")
        ok = ok and row["xgrad_rss"] is not None and row["libtorch_rss"] is not None and \
            row["xgrad_rss"] <= row["libtorch_rss"]
    return " ".join(parts), ok


def fmt_s(s):
    if s is None:
        return "missing"
    if s >= 1e-1:
        return f"{s:.3f} s"
    if s >= 1e-4:
        return f"{s * 1e3:.3f} ms"
    return f"{s * 1e6:.2f} us"


def write_svg(rows, path, machine):
    """Horizontal bars of the ratio xgrad/libtorch per workload, one bar per thread count, log scale."""
    threads = sorted({r["threads"] for r in rows})
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    ratios = [r["ratio"] for r in rows if r["ratio"]] + [t["ratio"] for t in TARGETS.values()]
    lo = 2.0 ** math.floor(math.log2(min(ratios + [0.25])))
    hi = 2.0 ** math.ceil(math.log2(max(ratios + [2.0])))
    colors = ["#3b6fb6", "#e08a2c", "#5aa05a", "#a05aa0"]
    bar_h, gap, left, right, top = 14, 10, 150, 70, 64
    plot_w = 520
    height = top + len(workloads) * (len(threads) * bar_h + gap) + 60
    width = left + plot_w + right

    def x(v):
        return left + plot_w * (math.log2(v) - math.log2(lo)) / (math.log2(hi) - math.log2(lo))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
           'xgrad / libtorch time per iteration (below 1: xgrad faster)</text>',
           f'<text x="{width / 2}" y="34" text-anchor="middle" fill="#555">'
           f'{html.escape(machine)}</text>']
    y_end = height - 50
    v = lo
    while v <= hi * 1.0001:
        out.append(f'<line x1="{x(v):.1f}" y1="{top - 6}" x2="{x(v):.1f}" y2="{y_end}" '
                   f'stroke="{"#222" if v == 1 else "#ddd"}" stroke-width="{1.5 if v == 1 else 1}"/>')
        out.append(f'<text x="{x(v):.1f}" y="{y_end + 14}" text-anchor="middle">{v:g}</text>')
        v *= 2
    out.append(f'<text x="{left + plot_w / 2}" y="{y_end + 30}" text-anchor="middle">'
               'ratio xgrad / libtorch (log scale); red tick: target</text>')
    y = top
    by_key = {(r["workload"], r["threads"]): r for r in rows}
    for w in workloads:
        group_h = len(threads) * bar_h
        out.append(f'<text x="{left - 8}" y="{y + group_h / 2 + 4}" text-anchor="end">{html.escape(w)}</text>')
        for i, t in enumerate(threads):
            r = by_key.get((w, t))
            yy = y + i * bar_h
            if r is None:
                continue
            if r["ratio"] is None:
                out.append(f'<text x="{left + 4}" y="{yy + bar_h - 3}" fill="#999">{t} thr: xgrad '
                           f'{html.escape(r["xgrad_status"])}</text>')
                continue
            x0, x1 = x(lo), x(max(min(r["ratio"], hi), lo))
            out.append(f'<rect x="{x0:.1f}" y="{yy + 1}" width="{x1 - x0:.1f}" height="{bar_h - 2}" '
                       f'fill="{colors[i % len(colors)]}"/>')
            out.append(f'<text x="{x1 + 4:.1f}" y="{yy + bar_h - 3}">{r["ratio"]:.2f}</text>')
        target = TARGETS.get(w, {}).get("ratio")
        if target:
            out.append(f'<line x1="{x(target):.1f}" y1="{y - 2}" x2="{x(target):.1f}" y2="{y + group_h + 2}" '
                       'stroke="#d22" stroke-width="2"/>')
        y += group_h + gap
    lx = left
    for i, t in enumerate(threads):
        out.append(f'<rect x="{lx}" y="{top - 22}" width="12" height="10" fill="{colors[i % len(colors)]}"/>')
        out.append(f'<text x="{lx + 16}" y="{top - 13}">{t} thread{"s" if t > 1 else ""}</text>')
        lx += 90
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(root, "build-compare"))
    p.add_argument("--out-dir", default=os.path.join(root, "benchmarks", "results"))
    p.add_argument("--rounds", type=int, default=4, help="A B alternations per row (default 4)")
    p.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    p.add_argument("--workloads", default="", help="comma-separated subset (default: all)")
    p.add_argument("--configs", default=DEFAULT_CONFIGS,
                   help=f"libtorch configs to try (default {DEFAULT_CONFIGS}; known: {', '.join(CONFIGS)})")
    p.add_argument("--reps", type=int, default=5, help="timed blocks per run (the run reports their median)")
    p.add_argument("--warmup", type=float, default=0.15, help="seconds of warm-up per run")
    p.add_argument("--block", type=float, default=0.05, help="seconds per timed block")
    p.add_argument("--timeout", type=float, default=300, help="seconds before a run is abandoned")
    p.add_argument("--blas-kernel", choices=("native", "environment"), default="native",
                   help="native: unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for every program, so OpenBLAS "
                        "picks its kernel for this CPU (default); environment: keep them as set")
    args = p.parse_args()
    global SCRUB_BLAS_PIN
    SCRUB_BLAS_PIN = args.blas_kernel == "native"

    bin_dir = os.path.join(args.build_dir, "benchmarks", "compare")
    programs = {name: os.path.join(bin_dir, exe) for name, exe in
                (("xgrad", "xgrad_compare"), ("libtorch", "torch_compare"), ("limits", "compare_limits"))}
    for exe in programs.values():
        if not os.access(exe, os.X_OK):
            sys.exit(f"run_compare: {exe} not built (cmake --build {args.build_dir} --target compare)")
    thread_counts = [int(t) for t in args.threads.split(",") if t]
    configs = [c for c in args.configs.split(",") if c]
    for c in configs:
        if c not in CONFIGS:
            sys.exit(f"run_compare: unknown config {c} (known: {', '.join(CONFIGS)})")
    started = time.monotonic()

    listed = {}
    for name in ("xgrad", "libtorch"):
        listed[name] = subprocess.run([programs[name], "--list"], capture_output=True, text=True,
                                      check=True).stdout.split()
    workloads = list(dict.fromkeys(listed["xgrad"] + listed["libtorch"]))
    if args.workloads:
        wanted = args.workloads.split(",")
        unknown = [w for w in wanted if w not in workloads]
        if unknown:
            sys.exit(f"run_compare: unknown workloads {unknown} (known: {', '.join(workloads)})")
        workloads = [w for w in workloads if w in wanted]

    info = machine_info(programs["libtorch"])
    machine = f"{info['cpu']}, {info['cores']} cores, {info['os']}, {info['libtorch']}, {info['date']}"
    print(f"machine: {machine} (load average {info['load']} at start)")
    lim, openblas = limits(programs["limits"], thread_counts)
    print(f"OpenBLAS: {openblas} ({blas_kernel_text(openblas)})")
    print("limits (best of several passes):")
    for t in thread_counts:
        print(f"  {t} thread{'s' if t > 1 else ' '}:  cblas_sgemm 1024^3 {lim.get(('sgemm', t), 0):7.1f} GFLOP/s"
              f"   STREAM triad {lim.get(('triad', t), 0):6.2f} GB/s   {floors_text(lim, t)}")
    sys.stdout.flush()

    os.makedirs(args.out_dir, exist_ok=True)
    runs_log = []
    rows = []
    for t in thread_counts:
        for w in workloads:
            torch_configs = [c for c in configs if t >= CONFIGS[c][1]] or ["default"]
            slots = [("xgrad", "xgrad", {})] + [("libtorch", c, CONFIGS[c][0]) for c in torch_configs]
            samples = {s[1]: [] for s in slots}
            rss = {s[1]: [] for s in slots}
            status = {s[1]: "ok" for s in slots}
            work = {}
            best = None
            # Round 0 runs every libtorch config once and picks the fastest; the later rounds alternate
            # xgrad with that config only (the order flips each round: A B, B A, ...).
            for r in range(args.rounds):
                active = slots if r == 0 else [slots[0]] + [sl for sl in slots if sl[1] == best]
                for prog, cfg, extra in (active if r % 2 == 0 else list(reversed(active))):
                    if status[cfg] != "ok" and not samples[cfg]:
                        continue  # missing or failing: once is enough
                    if w not in listed[prog]:
                        status[cfg] = "missing"
                        continue
                    f = run_workload(programs[prog], w, t, run_env(t, extra), args)
                    runs_log.append({"workload": w, "threads": t, "program": prog, "config": cfg, "round": r,
                                     **{k: f.get(k, "") for k in ("status", "iters", "s_per_iter",
                                                                  "min_s_per_iter", "max_rss_kib")}})
                    if f.get("status") != "ok":
                        status[cfg] = f.get("status", "error")
                        continue
                    samples[cfg].append(float(f["s_per_iter"]))
                    rss[cfg].append(int(f["max_rss_kib"]))
                    work = work or f
                if r == 0:
                    first = {c: samples[c][0] for c in torch_configs if samples[c]}
                    best = min(first, key=first.get) if first else None
            med = {c: statistics.median(v) if v else None for c, v in samples.items()}
            xs, ts = med["xgrad"], (med[best] if best else None)
            row = {"workload": w, "threads": t, "xgrad_s": xs, "libtorch_s": ts,
                   "ratio": xs / ts if xs and ts else None,
                   "xgrad_status": status["xgrad"] if xs is None else "ok",
                   "libtorch_status": (status[torch_configs[0]] if best is None else "ok"),
                   "xgrad_rss": statistics.median(rss["xgrad"]) / 1024 if rss["xgrad"] else None,
                   "libtorch_rss": statistics.median(rss[best]) / 1024 if best and rss[best] else None,
                   "config": best or "", "config_first": first, "rounds": args.rounds}
            row["xgrad_rate"], row["xgrad_rate_v"], row["unit"], row["xgrad_pct"] = rate(work, xs, lim, t)
            row["libtorch_rate"], row["libtorch_rate_v"], _, row["libtorch_pct"] = rate(work, ts, lim, t)
            row["target"], row["met"] = target_check(row)
            rows.append(row)
            print_row(row, header=(len(rows) == 1))
            sys.stdout.flush()

    elapsed = time.monotonic() - started
    info["load_end"] = "%.2f" % os.getloadavg()[0]
    print_table(rows, lim, thread_counts, machine, openblas, elapsed)
    print(f"load average (1 min): {info['load']} at start, {info['load_end']} at the end "
          f"(other work on the machine slows both programs)")
    write_outputs(rows, runs_log, args.out_dir, machine, info, lim, thread_counts, openblas)
    write_svg(rows, os.path.join(args.out_dir, "compare.svg"), machine)
    print(f"\nwrote {args.out_dir}/compare.csv, compare_detail.csv, compare.svg, compare.md "
          f"({elapsed:.0f} s)")


COLUMNS = ("{:<18} {:>3} {:>11} {:>11} {:>6}  {:>15} {:>15} {:>6}  {:>7} {:>7}  {:<26} {}")


def print_row(r, header=False):
    if header:
        print()
        print(COLUMNS.format("workload", "thr", "xgrad", "libtorch", "ratio", "xgrad rate", "libtorch rate",
                             "%lim", "xg MiB", "lt MiB", "libtorch config", "target"))
    ratio = f"{r['ratio']:.3f}" if r["ratio"] is not None else "-"
    pct = f"{r['xgrad_pct']:.0f}%" if r["xgrad_pct"] is not None else ""
    mib = lambda v: f"{v:.0f}" if v is not None else "-"  # noqa: E731
    target = f"{r['target']} {'ok' if r['met'] else 'MISS'}" if r["target"] else ""
    print(COLUMNS.format(r["workload"], r["threads"], fmt_s(r["xgrad_s"]) if r["xgrad_s"] else r["xgrad_status"],
                         fmt_s(r["libtorch_s"]) if r["libtorch_s"] else r["libtorch_status"], ratio,
                         r["xgrad_rate"], r["libtorch_rate"], pct, mib(r["xgrad_rss"]), mib(r["libtorch_rss"]),
                         r["config"], target).rstrip())


def print_table(rows, lim, thread_counts, machine, openblas, elapsed):
    print(f"\n== xgrad vs libtorch: median seconds per iteration over the rounds; ratio = xgrad / libtorch ==")
    print(f"machine: {machine}")
    for t in thread_counts:
        print(f"limits, {t} thread{'s' if t > 1 else ''}: cblas_sgemm {lim.get(('sgemm', t), 0):.1f} GFLOP/s, "
              f"STREAM triad {lim.get(('triad', t), 0):.2f} GB/s; {floors_text(lim, t)}")
    for i, r in enumerate(rows):
        print_row(r, header=(i == 0))
    wins = {}
    for r in rows:
        if r["config"]:
            wins.setdefault(r["threads"], []).append(r["config"])
    for t, cs in sorted(wins.items()):
        counts = {c: cs.count(c) for c in dict.fromkeys(cs)}
        print(f"libtorch config that won at {t} thread{'s' if t > 1 else ''}: " +
              ", ".join(f"{c} ({n} of {len(cs)} rows)" for c, n in counts.items()))
    print(f"(%lim: xgrad's rate as % of the sgemm or triad limit at that thread count; MiB: max RSS; "
          f"{elapsed:.0f} s)")


def write_outputs(rows, runs_log, out_dir, machine, info, lim, thread_counts, openblas):
    num = lambda v, f: (f % v) if v is not None else ""  # noqa: E731
    with open(os.path.join(out_dir, "compare.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "threads", "xgrad_s", "libtorch_s", "ratio"])
        for r in rows:
            w.writerow([r["workload"], r["threads"], num(r["xgrad_s"], "%.6e"), num(r["libtorch_s"], "%.6e"),
                        num(r["ratio"], "%.4f")])
    with open(os.path.join(out_dir, "compare_detail.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "threads", "xgrad_s", "libtorch_s", "ratio", "unit", "xgrad_rate", "libtorch_rate",
                    "limit", "xgrad_pct_of_limit", "libtorch_pct_of_limit", "xgrad_max_rss_mib",
                    "libtorch_max_rss_mib", "libtorch_config", "libtorch_configs_round0_s", "rounds", "target",
                    "target_met", "xgrad_status"])
        for r in rows:
            unit = r["unit"]
            limit = lim.get(("sgemm" if unit == "GFLOP/s" else "triad", r["threads"])) if unit in (
                "GFLOP/s", "GB/s") else None
            w.writerow([r["workload"], r["threads"], num(r["xgrad_s"], "%.6e"), num(r["libtorch_s"], "%.6e"),
                        num(r["ratio"], "%.4f"), unit, num(r["xgrad_rate_v"], "%.4g"),
                        num(r["libtorch_rate_v"], "%.4g"), num(limit, "%.4g"), num(r["xgrad_pct"], "%.1f"),
                        num(r["libtorch_pct"], "%.1f"), num(r["xgrad_rss"], "%.1f"), num(r["libtorch_rss"], "%.1f"),
                        r["config"], " ".join(f"{c}={v:.4e}" for c, v in r["config_first"].items()),
                        r["rounds"], r["target"], "" if r["met"] is None else ("yes" if r["met"] else "no"),
                        r["xgrad_status"]])
    with open(os.path.join(out_dir, "compare_runs.csv"), "w", newline="") as f:
        keys = ["workload", "threads", "program", "config", "round", "status", "iters", "s_per_iter",
                "min_s_per_iter", "max_rss_kib"]
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(runs_log)
    with open(os.path.join(out_dir, "compare.md"), "w") as f:
        f.write(f"Measured {info['date']} on {info['cpu']}, {info['cores']} cores, {info['os']} "
                f"(kernel {info['kernel']}), against {info['libtorch']} (Debian libtorch-dev); "
                f"OpenBLAS {openblas.split()[1] if len(openblas.split()) > 1 else openblas} "
                f"({blas_kernel_text(openblas)}). "
                f"Limits: " + "; ".join(
                    f"{t} thread{'s' if t > 1 else ''}: cblas_sgemm {lim.get(('sgemm', t), 0):.1f} GFLOP/s, "
                    f"STREAM triad {lim.get(('triad', t), 0):.1f} GB/s, {floors_text(lim, t)}" for t in thread_counts) +
                f". Load average {info['load']} at the start, {info['load_end']} at the end. Medians of "
                f"{rows[0]['rounds'] if rows else 0} alternating runs; libtorch under its fastest config "
                f"(run_compare.py's CONFIGS).\n\n")
        f.write("| workload | threads | xgrad | libtorch | xgrad / libtorch | xgrad rate | libtorch rate "
                "| xgrad MiB | libtorch MiB | libtorch config |\n")
        f.write("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
        for r in rows:
            pct = f" ({r['xgrad_pct']:.0f}%)" if r["xgrad_pct"] is not None else ""
            f.write(f"| {r['workload']} | {r['threads']} | "
                    f"{fmt_s(r['xgrad_s']) if r['xgrad_s'] else r['xgrad_status']} | {fmt_s(r['libtorch_s'])} | "
                    f"{num(r['ratio'], '%.2f') or '-'} | {r['xgrad_rate']}{pct} | {r['libtorch_rate']} | "
                    f"{num(r['xgrad_rss'], '%.0f')} | {num(r['libtorch_rss'], '%.0f')} | {r['config']} |\n")


if __name__ == "__main__":
    main()
