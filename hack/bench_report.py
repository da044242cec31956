#!/usr/bin/python3
"""Summarise a `make bench` run: hack/bench_report.py OUTDIR LABEL_A LABEL_B

Reads OUTDIR/samples.tsv (metric, label, iter, value) and OUTDIR/scale.tsv, prints the table of medians,
p90s, ratios B/A and the issue's targets, writes OUTDIR/summary.tsv and (with gnuplot) OUTDIR/scale.png.
Debian's python3 only (no third-party modules)."""
import collections
import math
import os
import subprocess
import sys

out, label_a, label_b = sys.argv[1], sys.argv[2], sys.argv[3]
aa = label_a.rstrip("12") == label_b.rstrip("12")

samples = collections.defaultdict(list)
with open(os.path.join(out, "samples.tsv")) as f:
    next(f)
    for line in f:
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 4:
            continue
        metric, label, _, value = parts
        try:
            samples[(metric, label)].append(float(value))
        except ValueError:
            pass


def quantile(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


# metric -> (target description, check(median_b, median_a, floor) -> bool or None)
def ratio_le(r):
    return (f"B/A <= {r}", lambda b, a, fl: b / a <= r if a else None)


def abs_le(v, unit=""):
    return (f"B <= {v}{unit}", lambda b, a, fl: b <= v)


def floor_le(r):
    return (f"B/floor <= {r}", lambda b, a, fl: b / fl <= r if fl else None)


targets = {
    "mem.pss_per_ctr_kb": ratio_le(0.10),
    "mem.threads_per_shim": abs_le(1),
    "idle.wakeups_per_shim_per_s": abs_le(0),
    "idle.syscalls_one_shim": abs_le(0),
    "idle.rss_growth_kb_all_shims": abs_le(0, " kB"),
    "exec.cpu_shim_side_ms": ratio_le(0.06),
    "exec.cpu_total_ms": ratio_le(0.3),
    "exec.wall_ms": ratio_le(0.5),
    "cold.cpu_shim_side_ms": ratio_le(0.10),
    "cold.cpu_total_ms": ratio_le(0.4),
    "cold.wall_ms": ratio_le(0.7),
    "par.cpu_total_per_ctr_ms": ratio_le(0.5),
    "direct.wall_ms": floor_le(1.5),
    "direct.cpu_ms": floor_le(1.5),
}
order = [
    "cold.wall_ms", "cold.cpu_total_ms", "cold.cpu_containerd_ms", "cold.cpu_shim_side_ms",
    "exec.wall_ms", "exec.cpu_total_ms", "exec.cpu_containerd_ms", "exec.cpu_shim_side_ms",
    "exec_seccomp.wall_ms", "exec_seccomp.cpu_total_ms", "exec_seccomp.cpu_containerd_ms",
    "exec_seccomp.cpu_shim_side_ms",
    "par.wall_s", "par.cpu_total_per_ctr_ms", "par.cpu_containerd_per_ctr_ms", "par.cpu_shim_side_per_ctr_ms",
    "mem.shims", "mem.pss_per_ctr_kb", "mem.pss_anon_per_ctr_kb", "mem.rss_per_shim_kb", "mem.threads_per_shim",
    "idle.wakeups_per_shim_per_s", "idle.syscalls_one_shim", "idle.rss_growth_kb_all_shims",
    "idle.pss_growth_kb_all_shims",
    "direct.wall_ms", "direct.cpu_ms", "direct.api_cpu_ms",
]
phases = ["start_action", "create", "start", "exec", "wait", "delete", "shutdown", "delete_action"]
order += [f"direct.phase_{p}_ms" for p in phases]
order += ["direct_exec.wall_ms", "direct_exec.cpu_ms", "direct_exec.api_cpu_ms"] + [f"direct_exec.phase_{p}_ms" for p in phases]
order += ["callgrind.daemon_cycle_Ir", "callgrind.start_action_Ir", "callgrind.delete_action_Ir"]
metrics = {m for m, _ in samples}
failures = sorted(m for m in metrics if m.endswith(".fail"))
order += sorted(m for m in metrics if m not in order and not m.endswith(".fail") and not m.startswith("scale."))


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if abs(x) >= 1e6:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


rows = []
floor_med = {
    "direct.wall_ms": quantile(samples.get(("direct.wall_ms", "floor"), []), 0.5),
    "direct.cpu_ms": quantile(samples.get(("direct.cpu_ms", "floor"), []), 0.5),
}
# the task API's part of the cycle (no start/delete action, no daemon exit) against the whole floor:
# shown, not a target (the target is the whole cycle)
floor_med["direct.api_cpu_ms"] = floor_med["direct.cpu_ms"]
header = ["metric", f"{label_a} med", f"{label_a} p90", f"{label_b} med", f"{label_b} p90", "B/A", "n",
          "floor med", "target", "met"]
for m in order:
    a = samples.get((m, label_a), [])
    b = samples.get((m, label_b), [])
    if not a and not b:
        continue
    if ".phase_" in m and not any(a) and not any(b):
        continue
    ma, pa, mb, pb = quantile(a, 0.5), quantile(a, 0.9), quantile(b, 0.5), quantile(b, 0.9)
    ratio = mb / ma if a and b and ma else float("nan")
    fl = floor_med.get(m)
    tgt, met = "", ""
    if m in targets and not aa:
        tgt, check = targets[m]
        ok = None
        if b and (not tgt.startswith("B/A") or a) and (not tgt.startswith("B/floor") or fl):
            try:
                ok = check(mb, ma, fl)
            except ZeroDivisionError:
                ok = None
        met = "-" if ok is None else ("yes" if ok else "NO")
        if ok is not None and tgt.startswith("B/floor"):
            tgt += f" ({mb / fl:.2f})"
    if m == "direct.api_cpu_ms" and b and fl and not aa:
        tgt = f"(B/floor {mb / fl:.2f}, no target)"
    rows.append([m, fmt(ma) if a else "-", fmt(pa) if a else "-", fmt(mb) if b else "-", fmt(pb) if b else "-",
                 fmt(ratio), f"{len(a)}/{len(b)}", fmt(fl) if fl else "", tgt, met])

# scale: the curve's summary, and the plot
scale_rows = []
scale_file = os.path.join(out, "scale.tsv")
if os.path.exists(scale_file):
    data = collections.defaultdict(list)
    with open(scale_file) as f:
        next(f)
        for line in f:
            p = line.rstrip("\n").split("\t")
            data[p[0]].append(p)
    for label in (label_a, label_b):
        d = data.get(label, [])
        if not d:
            continue
        n = len(d)
        fifth = max(1, n // 5)
        first = [float(p[2]) for p in d[:fifth]]
        last = [float(p[2]) for p in d[-fifth:]]
        firstc = [float(p[3]) for p in d[:fifth]]
        lastc = [float(p[3]) for p in d[-fifth:]]
        firsts = [float(p[4]) for p in d[:fifth]]
        lasts = [float(p[4]) for p in d[-fifth:]]
        pss = [(int(p[1]), float(p[5])) for p in d if p[5] != "-"]
        top = pss[-1] if pss else (0, float("nan"))
        # the kernel floor's cycle at the steps: first and last fifth of the count
        fl = [(int(p[1]), float(p[7])) for p in d if len(p) > 7 and p[7] != "-"]
        flf = [v for c, v in fl if c <= n // 5] or [v for c, v in fl[:1]]
        fll = [v for c, v in fl if c > n - n // 5] or [v for c, v in fl[-1:]]
        floor = (quantile(flf, 0.5), quantile(fll, 0.5)) if fl else None
        # containerd's open fds at the first and the last step (older scale.tsv files have no such column)
        fds = [(int(p[1]), int(p[8])) for p in d if len(p) > 8 and p[8] != "-"]
        fds = (fds[0], fds[-1]) if fds else None
        scale_rows.append((label, n, quantile(first, 0.5), quantile(last, 0.5), quantile(firstc, 0.5),
                           quantile(lastc, 0.5), top, quantile(firsts, 0.5), quantile(lasts, 0.5), floor, fds))
    gp = subprocess.run(["sh", "-c", "command -v gnuplot"], capture_output=True, text=True).stdout.strip()
    if gp and data:
        script = f"""
set terminal pngcairo size 1100,450 font ",10"
set output "{out}/scale.png"
set multiplot layout 1,3 title "make bench: sleeping containers started one at a time"
set xlabel "containers running"
set ylabel "start latency, ctr run -d (ms)"
set key top left
set grid
plot """ + ", ".join(
            f"\"< awk -F'\\t' '$1 == \\\"{lb}\\\"' {scale_file}\" using 2:3 with points pt 7 ps 0.4 title \"{lb}\""
            for lb in (label_a, label_b) if lb in data) + f"""
set ylabel "CPU (ms, log): shim side per start; kernel floor's cycle"
set logscale y
plot """ + ", ".join(
            f"\"< awk -F'\\t' '$1 == \\\"{lb}\\\"' {scale_file}\" using 2:5 with points pt 7 ps 0.4 title \"{lb} shim side\""
            for lb in (label_a, label_b) if lb in data) + ", " + ", ".join(
            f"\"< awk -F'\\t' '$1 == \\\"{lb}\\\" && NF > 7 && $8 != \\\"-\\\"' {scale_file}\" using 2:8 with linespoints pt 6 title \"floor among {lb}'s\""
            for lb in (label_a, label_b) if lb in data) + f"""
unset logscale y
set ylabel "PSS of all shims (MB)"
plot """ + ", ".join(
            f"\"< awk -F'\\t' '$1 == \\\"{lb}\\\" && $6 != \\\"-\\\"' {scale_file}\" using 2:6 with linespoints pt 7 title \"{lb}\""
            for lb in (label_a, label_b) if lb in data) + """
unset multiplot
"""
        subprocess.run([gp], input=script, text=True, capture_output=True)

widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
lines = []
mode = "A/A (noise floor)" if aa else "A = runc-v2 + runc, B = wren"
lines.append(f"make bench: {mode}; medians and p90 (ms unless named otherwise), n = samples A/B")
lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths)))
for r in rows:
    lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
if scale_rows:
    lines.append("")
    lines.append("scale: start latency (wall ms, median of the first and last fifth of the starts), CPU per start "
                 "(ms, same), PSS of all shims at the top")
    for label, n, f1, l1, fc, lc, top, fs, ls, floor, fds in scale_rows:
        ok = ""
        if not aa and label == label_b:
            ok = f"  [<=150 MB at 500: {'yes' if top[1] <= 150 else 'NO'}{'' if top[0] >= 500 else ' (only ' + str(top[0]) + ' run)'}; no slow-down (last/first <= 1.2): {'yes' if l1 / f1 <= 1.2 else 'NO'}]"
        lines.append(f"  {label}: {n} containers: wall {f1:.1f} -> {l1:.1f} ms ({l1 / f1:.2f}x), cpu {fc:.1f} -> {lc:.1f} ms "
                     f"({lc / fc:.2f}x), shim side {fs:.1f} -> {ls:.1f} ms ({ls / fs:.2f}x); shims' PSS {top[1]:.1f} MB at {top[0]}{ok}")
        if floor:
            lines.append(f"    kernel floor's cycle among {label}'s containers: cpu {floor[0]:.2f} -> {floor[1]:.2f} ms "
                         f"({floor[1] / floor[0]:.2f}x)")
        if fds:
            lines.append(f"    containerd's open fds (each start action closes them at its execve): {fds[0][1]} with "
                         f"{fds[0][0]} running -> {fds[1][1]} with {fds[1][0]}")
if failures:
    lines.append("")
    lines.append("FAILURES (operations that did not succeed, count per label):")
    for m in failures:
        lines.append(f"  {m}: {label_a} {int(sum(samples.get((m, label_a), [])))}, "
                     f"{label_b} {int(sum(samples.get((m, label_b), [])))}")
notes = os.path.join(out, "notes.txt")
if os.path.exists(notes) and os.path.getsize(notes):
    lines.append("")
    lines.append("notes:")
    lines += ["  " + x.rstrip("\n") for x in open(notes)]
print("\n".join(lines))

with open(os.path.join(out, "summary.tsv"), "w") as f:
    f.write("metric\t" + "\t".join(f"{label_a}_median {label_a}_p90 {label_b}_median {label_b}_p90".split()) +
            "\tratio_b_a\tn\tfloor_median\ttarget\tmet\n")
    for r in rows:
        f.write("\t".join(str(c) for c in r) + "\n")
