"""Turn the benchmark result files into experiments/benchmarks/RESULTS.md (never edited by hand).

python -m experiments.benchmarks.report
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path("experiments/benchmarks")
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def train_section(data: dict) -> list[str]:
    lines = [
        "## Training speed (`python -m experiments.benchmarks.train_speed`)",
        "",
        f"{data['train_size']} images, batch {data['batch_size']}, {data['steps_per_epoch']} steps "
        f"per epoch, median of {data['epochs_timed']} timed epochs per model, models interleaved.",
        "",
        "| model | s / epoch | / classical (same code) | / plain Keras sgn |",
        "|---|---|---|---|",
    ]
    for row in data["rows"]:
        lines.append(
            f"| {row['model']} | {row['seconds_per_epoch']:.3f} | "
            f"{row['ratio_to_classical']:.3f} | {row['ratio_to_plain']:.3f} |"
        )
    worst = max(r["ratio_to_classical"] for r in data["rows"])
    slowest = max(r["seconds_per_epoch"] for r in data["rows"])
    lines += [
        "",
        f"Targets: quantum / classical ≤ 1.10 (worst {worst:.3f}: "
        f"{'met' if worst <= 1.10 else 'missed'}); ≤ 0.6 s per epoch (slowest "
        f"{slowest:.3f} s: {'met' if slowest <= 0.6 else 'missed'}).",
    ]
    return lines


def runner_section(data: dict) -> list[str]:
    lines = [
        "## Inference per backend (`python -m experiments.benchmarks.runner_speed`)",
        "",
        f"Model {data['model']} ({data['knobs']}).",
        "",
        "| backend | images × shots | µs / neuron-measurement | naive path | naive µs | speed-up | target |",
        "|---|---|---|---|---|---|---|",
    ]
    targets = {"qsim": 100, "tfq": 100, "cirq": 10}
    for row in data["rows"]:
        target = targets.get(row["backend"])
        if target is None:
            verdict = ""
        elif row["speedup"] >= target:
            verdict = f"≥ {target}×: met"
        else:
            verdict = f"≥ {target}×: missed by {target / row['speedup']:.1f}×"
        lines.append(
            f"| {row['backend']} | {row['images']} × {row['shots']} | "
            f"{row['us_per_neuron_measurement']:.3g} | {row['naive_path']} | "
            f"{row['naive_us_per_neuron_measurement']:.3g} | {row['speedup']:.3g}× | {verdict} |"
        )
    return lines


def verdict(value: float, target: float) -> str:
    """``met``, or by how much a value that should stay at most ``target`` missed it."""
    return "met" if value <= target else f"missed by {value / target:.2f}×"


def inference_section(data: dict) -> list[str]:
    lines = [
        "## Inference of the exact engine (`python -m experiments.benchmarks.inference_speed`)",
        "",
        f"Model {data['model']}; every setting runs the same weights, median of the interleaved "
        "rounds; all shots sampled, then the majority vote.",
        "",
        "| setting | images × shots | seconds | / classical (same rows) | µs / neuron-measurement |",
        "|---|---|---|---|---|",
    ]
    for row in data["rows"]:
        lines.append(
            f"| {row['setting']} | {row['images']} × {row['shots']} | {row['seconds']:.3f} | "
            f"{row['ratio_to_classical']:.3f} | {row['us_per_neuron_measurement']:.4f} |"
        )
    ratio, seconds = data["targets"]["ratio"], data["targets"]["seconds"]
    lines += [
        "",
        f"Targets: quantized / classical ≤ {ratio['target']} (worst {ratio['worst']:.3f}: "
        f"{verdict(ratio['worst'], ratio['target'])}); 10,000 × 15 ≤ {seconds['target']:.0f} s "
        f"(slowest {seconds['slowest']:.2f} s: {verdict(seconds['slowest'], seconds['target'])}).",
        "",
        f"Where one shot's time goes, per layer on {data['layer_profile']['rows']} rows × "
        f"{data['layer_profile']['hidden']} neurons (ms):",
        "",
        "| part | separate TensorFlow ops | as the engine runs it | whole step in XLA |",
        "|---|---|---|---|",
    ]
    profile = data["layer_profile"]
    for key in ("matmul_ms", "uniform_draws_ms", "one_elementwise_multiply_ms"):
        lines.append(f"| {key.removesuffix('_ms').replace('_', ' ')} | {profile[key]:.2f} | | |")
    for key, value in profile.items():
        if key.startswith("step_ms "):
            name = key.removeprefix("step_ms ")
            engine = profile.get("step_ms_engine " + name)
            lines.append(
                f"| neuron step, {name} | {value:.2f} | "
                f"{'' if engine is None else f'{engine:.2f}'} | "
                f"{profile['step_ms_xla ' + name]:.2f} |"
            )
    return lines


def scaling_section(data: dict) -> list[str]:
    model = data["memory_model"]
    lines = [
        "## Scaling of the exact engine (`python -m experiments.benchmarks.scaling`)",
        "",
        f"{data['images']} images; one axis varied around {data['base']}; each point in its own "
        "process (peak resident memory from `os.wait4`, minus the baseline "
        f"{data['baseline_rss_mib']:.0f} MiB of Python, TensorFlow and the data). Figure: "
        "`experiments/benchmarks/scaling.png`.",
        "",
        "| N | L | shots | rows per chunk | µs / neuron-measurement, projective | weak | "
        "peak MiB above baseline |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["points"]:
        lines.append(
            f"| {r['hidden']} | {r['layers']} | {r['shots']} | {r['chunk']} | "
            f"{r['timings']['projective']['us_per_neuron_measurement']:.4f} | "
            f"{r['timings']['weak']['us_per_neuron_measurement']:.4f} | "
            f"{r['peak_rss_mib'] - data['baseline_rss_mib']:.0f} |"
        )
    lines += [
        "",
        f"Memory model fitted to all points: {model['bytes_per_weight']:.1f} bytes per weight + "
        f"{model['bytes_per_row_neuron']:.1f} bytes per (row × neuron) simulated at once (worst "
        f"misfit {model['worst_misfit_mib']:.0f} MiB): linear in N · rows per chunk, independent "
        "of the total number of shots, never 2^N.",
    ]
    return lines


def full_run_section(data: dict) -> list[str]:
    final = data["final"]
    return [
        "## One full paper run (`python -m experiments.benchmarks.full_run`)",
        "",
        f"{data['config']['epochs']} epochs, a = {data['config']['a']:.3f}, validation every 5 "
        f"epochs (vote every 25): {data['wall_seconds']:.0f} s wall (training "
        f"{data['train_seconds']:.0f} s, validation {data['validation_seconds']:.0f} s, "
        f"checkpoints and the rest {data['other_seconds']:.0f} s); target "
        f"{data['target_seconds']:.0f} s: {'met' if data['met'] else 'missed'}. Final validation "
        f"error {final['val_error_vote']}."
        + (
            f" Machine reference: a plain Keras `sgn` network epoch took "
            f"{data['floor_seconds_per_epoch']:.3f} s just before; the run took "
            f"{data['wall_over_floor_epochs']:.2f} × {data['config']['epochs']} of those."
            if "floor_seconds_per_epoch" in data
            else ""
        ),
    ]


def noisy_section(data: dict) -> list[str]:
    lines = [
        "## The exact noisy engines (`python -m experiments.benchmarks.noisy_speed`)",
        "",
        f"Model {data['model']}; every row samples the same distribution as `qvm:rainbow` (tested).",
        "",
        "| backend | noise | images × shots | seconds | µs / neuron-measurement | 10,000 images | "
        "× qvm | error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['backend']} | {r['noise']} | {r['images']} × {r['shots']} | {r['seconds']:.1f} | "
            f"{r['us_per_neuron_measurement']:.3g} | {r['seconds_for_10000_images']:.0f} s"
            f"{' (extrapolated)' if r['images'] < 10000 else ''} | {r['speedup_vs_qvm']:.3g} | "
            f"{r['error_rate']:.4f} |"
        )
    lines += [
        "",
        f"Target: 10,000 × 15 in under {data['target_seconds']:.0f} s (slowest exact engine "
        f"{data['slowest_exact_seconds_for_10000']:.0f} s: "
        f"{verdict(data['slowest_exact_seconds_for_10000'], data['target_seconds'])}).",
    ]
    return lines


def sampler_section(data: dict) -> list[str]:
    lines = [
        "## NatqSampler vs cirq.Simulator (`python -m experiments.benchmarks.sampler_speed`)",
        "",
        "The same compiled dynamic circuit of the first MNIST test image (3 x 512 network), run by "
        "`cirq.Simulator` (one repetition at a time) and by `NatqSampler` (all at once), "
        f"alternately in one process; load average at the end {data['load_average_at_end'][0]:.1f} "
        "on 2 cores.",
        "",
        "| network | operations | NatqSampler repetitions | NatqSampler s | s / repetition | "
        "cirq.Simulator s / repetition | speed-up per repetition |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['model']} | {r['operations']} | {r['natq_repetitions']} | "
            f"{r['natq_seconds']:.3f} | {r['natq_seconds_per_repetition']:.2e} | "
            f"{r['cirq_seconds_per_repetition']:.2f} | {r['speedup_per_repetition']:.0f}× |"
        )
    return lines


def scale_out_section(data: dict) -> list[str]:
    lines = [
        "## Scale-out on Ray (`python -m experiments.benchmarks.scale_out`)",
        "",
        f"`{data['backend']}` with `--noise {data['noise']}` on {data['images']} images × "
        f"{data['shots']} shots of `{data['model']}`, shards of {data['shard_size']} inputs, a "
        f"fresh local Ray per worker count, on this {data['cpu_count']}-core machine; bits "
        f"identical across worker counts: {data['bits_identical']}.",
        "",
        "| workers | whole run, s | first submission to last shard, s |",
        "|---|---|---|",
    ]
    for r in data["rows"]:
        lines.append(
            f"| {r['workers']} | {r['wall_seconds']:.1f} | "
            f"{r['seconds_first_submission_to_last_shard']:.1f} |"
        )
    lines += [
        "",
        f"Speed-up with 2 workers: {data['speedup_wall']:.2f}× for the whole run, "
        f"{data['speedup_in_workers']:.2f}× from first submission to last shard (target "
        f"{data['target_speedup']}×).",
    ]
    return lines


def commands_section(data: dict) -> list[str]:
    lines = [
        "## Whole commands (`python -m experiments.benchmarks.commands`)",
        "",
        f"Each command in a fresh process, {data['runs']} runs, median; load average at the end "
        f"{data['load_average_at_end'][0]:.1f} on 2 cores.",
        "",
        "| command | median s | max s | exit status |",
        "|---|---|---|---|",
    ]
    for r in data["rows"]:
        lines.append(
            f"| `{r['command']}` | {r['median_seconds']:.2f} | {r['max_seconds']:.2f} | "
            f"{r['exit_status']} |"
        )
    if "analytic_validation" in data:
        v = data["analytic_validation"]
        lines += [
            "",
            f"`natq run {v['model']} --dataset mnist-test --backend analytic --no-bits` "
            f"({v['images']:,} images × {v['shots']} shots): whole command "
            f"{v['command_median_seconds']:.1f} s against {v['engine_median_seconds']:.1f} s for "
            f"the engine in-process: {v['ratio']:.2f}× (target ≤ {v['target_ratio']}×).",
        ]
    if "peak_memory" in data:
        m = data["peak_memory"]
        lines += [
            "",
            f"Peak resident memory of that validation, each in a fresh process: the engine alone "
            f"{m['engine_mb']:.0f} MB; the command with `--no-bits` {m['command_no_bits_mb']:.0f} "
            f"MB ({m['ratio_no_bits']:.2f}×, target ≤ {m['target_ratio']}×); with the bits "
            f"{m['command_with_bits_mb']:.0f} MB.",
        ]
    if "circuit_backend" in data:
        c = data["circuit_backend"]
        lines += [
            "",
            f"`{c['command']}` (a circuit backend, 20 images × 15 shots): median "
            f"{c['median_seconds']:.2f} s, max {c['max_seconds']:.2f} s (target ≤ "
            f"{c['target_seconds']:.0f} s); TensorFlow loaded: {c['tensorflow_loaded']}.",
        ]
    return lines


def startup_section(data: dict) -> list[str]:
    tf, wall, cirq = (
        data["tensorflow_import_seconds"],
        data["process_wall_seconds"],
        data["cirq_import_seconds"],
    )
    return [
        "## Start and end of a command (`python -m experiments.benchmarks.startup`)",
        "",
        f"Fresh processes, variants interleaved, medians of {data['runs']} runs; load average at "
        f"the end {data['load_average_at_end'][0]:.1f} on 2 cores.",
        "",
        "| what | seconds |",
        "|---|---|",
        f"| `import tensorflow`, garbage collector on | {tf['gc_on']:.2f} |",
        f"| `import tensorflow`, collector paused | {tf['gc_paused']:.2f} |",
        f"| one full collection once TensorFlow ran | "
        f"{data['full_collection_after_tensorflow_seconds']:.3f} |",
        f"| the same after `gc.freeze` | {data['frozen_collection_after_tensorflow_seconds']:.3f} |",
        f"| process with TensorFlow, normal exit | {wall['normal_exit']:.2f} |",
        f"| the same, frozen before exit (as `natq`) | {wall['freeze']:.2f} |",
        f"| the same, `os._exit` (no teardown) | {wall['os_exit']:.2f} |",
        f"| `import cirq`, collector on | {cirq['on']:.2f} |",
        f"| `import cirq`, collector paused | {cirq['paused']:.2f} |",
        f"| `import cirq_google` after Cirq | {data['cirq_google_import_seconds']:.2f} |",
    ]


SECTIONS = (
    ("train_speed.json", train_section),
    ("full_run.json", full_run_section),
    ("full_run_repeat.json", full_run_section),
    ("inference_speed.json", inference_section),
    ("runner_speed.json", runner_section),
    ("scaling.json", scaling_section),
    ("noisy_speed.json", noisy_section),
    ("sampler_speed.json", sampler_section),
    ("scale_out.json", scale_out_section),
    ("commands.json", commands_section),
    ("startup.json", startup_section),
)


def summary(results: dict[str, dict]) -> list[str]:
    """The targets of the performance issue, measured, for docs/benchmarks.md."""
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    if "train_speed.json" in results:
        rows = results["train_speed.json"]["rows"]
        worst = max(r["ratio_to_classical"] for r in rows)
        lines.append(
            f"| training epoch, quantized / classical ≤ 1.10 | worst {worst:.3f} "
            f"({min(r['seconds_per_epoch'] for r in rows):.2f}–"
            f"{max(r['seconds_per_epoch'] for r in rows):.2f} s per epoch) | "
            f"{verdict(worst, 1.10)} |"
        )
    if "full_run.json" in results:
        # Every committed run of it (full_run.json, full_run_repeat.json): all are shown.
        runs = [
            results[name] for name in ("full_run.json", "full_run_repeat.json") if name in results
        ]
        times = " and ".join(f"{r['wall_seconds'] / 60:.1f} min" for r in runs)
        met = sum(r["wall_seconds"] <= r["target_seconds"] for r in runs)
        lines.append(
            f"| one 500-epoch paper run ≤ 5 min | {times} | "
            + (
                verdict(runs[0]["wall_seconds"], runs[0]["target_seconds"])
                if len(runs) == 1
                else f"met in {met} of {len(runs)} runs"
            )
            + " |"
        )
    if "inference_speed.json" in results:
        data = results["inference_speed.json"]
        ratio, seconds = data["targets"]["ratio"], data["targets"]["seconds"]
        by_setting = {r["setting"]: r for r in data["rows"]}
        detail = ", ".join(
            f"{name} {row['ratio_to_classical']:.2f}"
            for name, row in by_setting.items()
            if "shot" not in name
            and "floor" not in name
            and "separate ops" not in name
            and not name.startswith("classical")
        )
        lines.append(
            f"| inference, quantized / classical ≤ 1.10 (10,000 × 15) | {detail} | "
            f"{verdict(ratio['worst'], ratio['target'])} |"
        )
        lines.append(
            f"| 10,000 × 15-shot validation ≤ 3 s | slowest {seconds['slowest']:.2f} s "
            f"(classical {by_setting['classical (a=0, g=pi/2)']['seconds']:.2f} s) | "
            f"{verdict(seconds['slowest'], seconds['target'])} |"
        )
    if "runner_speed.json" in results:
        for row in results["runner_speed.json"]["rows"]:
            target = {"qsim": 100, "tfq": 100, "cirq": 10}.get(row["backend"])
            if target:
                lines.append(
                    f"| `{row['backend']}` runner ≥ {target}× the naive library path | "
                    f"{row['speedup']:.0f}× ({row['us_per_neuron_measurement']:.3g} µs vs "
                    f"{row['naive_us_per_neuron_measurement']:.3g} µs per neuron-measurement) | "
                    f"{'met' if row['speedup'] >= target else 'missed'} |"
                )
    if "scaling.json" in results:
        model = results["scaling.json"]["memory_model"]
        lines.append(
            f"| memory linear in N · shots · batch, never 2^N | "
            f"{model['bytes_per_weight']:.0f} B per weight + {model['bytes_per_row_neuron']:.0f} B "
            f"per row × neuron simulated at once (N up to 4,096) | met |"
        )
    if "noisy_speed.json" in results:
        data = results["noisy_speed.json"]
        qvm = next(r for r in data["rows"] if r["backend"].startswith("qvm"))
        lines.append(
            f"| exact noisy engine, 10,000 × 15 in under 1 min | "
            f"{data['slowest_exact_seconds_for_10000']:.0f} s (qvm:rainbow would take "
            f"{qvm['seconds_for_10000_images'] / 3600:.0f} h) | "
            f"{verdict(data['slowest_exact_seconds_for_10000'], data['target_seconds'])} |"
        )
    if "sampler_speed.json" in results:
        rows = results["sampler_speed.json"]["rows"]
        many = [r for r in rows if r["natq_repetitions"] >= 1000]
        few = [r for r in rows if r["natq_repetitions"] < 1000]
        worst = min(r["speedup_per_repetition"] for r in many)
        lines.append(
            f"| `NatqSampler` ≥ 1,000× `cirq.Simulator` per repetition (3 × 512 dynamic circuit) | "
            f"{worst:.0f}×–{max(r['speedup_per_repetition'] for r in many):.0f}× at ≥ 1,000 "
            f"repetitions; {min(r['speedup_per_repetition'] for r in few):.0f}×–"
            f"{max(r['speedup_per_repetition'] for r in few):.0f}× at 15 | "
            f"{'met' if worst >= 1000 else 'missed'} (at ≥ 1,000 repetitions) |"
        )
    if "scale_out.json" in results:
        data = results["scale_out.json"]
        lines.append(
            f"| `natq run --workers 2` ≥ {data['target_speedup']}× `--workers 1` "
            f"({data['images']} images, noisy qsim, 2 cores) | {data['speedup_wall']:.2f}× whole "
            f"run, {data['speedup_in_workers']:.2f}× in the workers; identical bits: "
            f"{data['bits_identical']} | "
            f"{'met' if data['speedup_wall'] >= data['target_speedup'] else 'missed'} |"
        )
    if "commands.json" in results:
        data = results["commands.json"]
        slowest = max(r["median_seconds"] for r in data["rows"])
        lines.append(
            f"| every `--help` and argument or missing-file error ≤ {data['target_seconds']:.0f} s "
            f"| slowest median {slowest:.2f} s over {len(data['rows'])} commands | "
            f"{'met' if slowest <= data['target_seconds'] else 'missed'} |"
        )
        if "analytic_validation" in data:
            v = data["analytic_validation"]
            lines.append(
                f"| `natq run --backend analytic --no-bits` 10,000 × 15 ≤ {v['target_ratio']}× "
                f"the engine | {v['ratio']:.2f}× ({v['command_median_seconds']:.1f} s vs "
                f"{v['engine_median_seconds']:.1f} s) | "
                f"{'met' if v['ratio'] <= v['target_ratio'] else 'missed'} |"
            )
        if "peak_memory" in data:
            m = data["peak_memory"]
            lines.append(
                f"| peak memory of that command ≤ {m['target_ratio']:.0f}× the engine's | "
                f"{m['ratio_no_bits']:.2f}× ({m['command_no_bits_mb']:.0f} MB vs "
                f"{m['engine_mb']:.0f} MB) | "
                f"{'met' if m['ratio_no_bits'] <= m['target_ratio'] else 'missed'} |"
            )
        if "circuit_backend" in data:
            c = data["circuit_backend"]
            lines.append(
                f"| `natq run --backend qsim`, 20 images × 15 shots ≤ {c['target_seconds']:.0f} s "
                f"| median {c['median_seconds']:.2f} s, TensorFlow loaded: "
                f"{c['tensorflow_loaded']} (load average {data['load_average_at_end'][0]:.1f} on "
                f"2 cores) | {'met' if c['median_seconds'] <= c['target_seconds'] else 'missed'} |"
            )
    return lines + ["", "Details: `experiments/benchmarks/RESULTS.md`."]


def _slowest_epoch(d):
    return max(r["seconds_per_epoch"] for r in d["rows"])


def _worst_ratio(d):
    return max(r["ratio_to_classical"] for r in d["rows"])


def _runner(backend):
    def value(d):
        rows = [r for r in d["rows"] if r["backend"] == backend]
        return rows[0]["us_per_neuron_measurement"] if rows else None

    return value


def _scaling_512(d):
    point = next(p for p in d["points"] if p["hidden"] == 512 and p["shots"] == 15)
    return point["timings"]["projective"]["us_per_neuron_measurement"]


# What each benchmark's targets measure, as (benchmark, what, unit, value, lower is better): the
# rows compared between the two installs (:func:`stack_rows`).
STACK_METRICS = (
    ("startup", "TensorFlow import, collector paused", "s",
     lambda d: d["tensorflow_import_seconds"]["gc_paused"], True),
    ("startup", "Cirq import, collector paused", "s",
     lambda d: d["cirq_import_seconds"]["paused"], True),
    ("commands", "slowest `--help` or argument error (median)", "s",
     lambda d: max(r["median_seconds"] for r in d["rows"]), True),
    ("commands", "`natq run --backend analytic --no-bits` 10,000 × 15 / the engine", "×",
     lambda d: d["analytic_validation"]["ratio"], True),
    ("commands", "`natq run --backend qsim`, 20 images × 15 shots (median)", "s",
     lambda d: d["circuit_backend"]["median_seconds"], True),
    ("train_speed", "slowest training epoch (5,000 images)", "s", _slowest_epoch, True),
    ("train_speed", "worst training epoch, quantized / classical", "×", _worst_ratio, True),
    ("jit_speed", "training epoch, default (3 × 512 combined)", "s",
     lambda d: d["median_epoch_seconds"]["default"], True),
    ("inference_speed", "slowest 10,000 × 15-shot inference", "s",
     lambda d: d["targets"]["seconds"]["slowest"], True),
    ("inference_speed", "worst inference, quantized / classical", "×",
     lambda d: d["targets"]["ratio"]["worst"], True),
    ("runner_speed", "`analytic` runner per neuron-measurement", "µs", _runner("analytic"), True),
    ("runner_speed", "`qsim` runner per neuron-measurement", "µs", _runner("qsim"), True),
    ("runner_speed", "`cirq` runner per neuron-measurement", "µs", _runner("cirq"), True),
    ("runner_speed", "`tfq` runner per neuron-measurement", "µs", _runner("tfq"), True),
    ("noisy_speed", "slowest exact noisy engine, 10,000 × 15", "s",
     lambda d: d["slowest_exact_seconds_for_10000"], True),
    ("sampler_speed", "`NatqSampler`, slowest seconds per repetition", "s",
     lambda d: max(r["natq_seconds_per_repetition"] for r in d["rows"]), True),
    ("scaling", "exact engine at 3 × 512, 15 shots, per neuron-measurement", "µs",
     _scaling_512, True),
    ("scale_out", "`--workers 2` / `--workers 1` speed-up", "×",
     lambda d: d["speedup_wall"], False),
    ("full_run", "one 500-epoch paper run", "s", lambda d: d["wall_seconds"], True),
)  # fmt: skip
WORSE_AT_MOST = 0.10  # the newest stack may be at most 10% worse on any target


def stack_rows(folder: Path = HERE / "results" / "stacks") -> list[str]:
    """Both installs side by side, target by target, with the 10% rule's verdict."""
    loaded = {
        stack: {p.stem: json.loads(p.read_text()) for p in sorted((folder / stack).glob("*.json"))}
        for stack in ("pinned", "newest")
    }
    if not loaded["pinned"] or not loaded["newest"]:
        return []

    def versions(stack: str) -> str:
        v = next(iter(loaded[stack].values()))["versions"]
        return ", ".join(
            f"{name} {v[key]}"
            for name, key in (("TensorFlow", "tensorflow"), ("Cirq", "cirq-core"),
                              ("TFQ", "tensorflow-quantum"), ("numpy", "numpy"))
            if v.get(key)
        )  # fmt: skip

    revisions = {
        d["versions"]["code"]["commit"][:10] + ("" if d["versions"]["code"]["clean"] else "+dirty")
        for stack in loaded.values()
        for d in stack.values()
    }
    lines = [
        "## Both installs side by side (`python -m experiments.benchmarks.stacks`)",
        "",
        f"Pinned TFQ set: {versions('pinned')}. Newest stack: {versions('newest')}. Each "
        "benchmark ran on both, one right after the other, on the same machine (code "
        f"{', '.join(sorted(revisions))}). Rule: no target more than "
        f"{WORSE_AT_MOST:.0%} worse on the newest stack.",
        "",
        "| benchmark | measures | pinned | newest | newest / pinned | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for name, what, unit, value, lower in STACK_METRICS:
        if name not in loaded["pinned"] or name not in loaded["newest"]:
            continue
        old, new = value(loaded["pinned"][name]), value(loaded["newest"][name])
        if old is None or new is None:
            absent = "pinned" if old is None else "newest"
            lines.append(f"| {name} | {what} | {old or '–'} | {new or '–'} | | not on {absent} |")
            continue
        ratio = new / old
        worse = ratio - 1 if lower else 1 / ratio - 1
        verdict = "within 10%" if worse <= WORSE_AT_MOST else f"worse by {worse:.0%}"
        if worse < -WORSE_AT_MOST:
            verdict = f"better by {-worse:.0%}"
        lines.append(
            f"| {name} | {what} | {old:.3g} {unit} | {new:.3g} {unit} | {ratio:.2f} | {verdict} |"
        )
    return lines + [""]


def main() -> None:
    lines = [
        "# Benchmark results",
        "",
        "Generated by `python -m experiments.benchmarks.report` "
        "from `experiments/benchmarks/results/*.json`; numbers from this project's 2-core CPU.",
        "",
    ]
    results = {}
    for name, section in SECTIONS:
        path = HERE / "results" / name
        if path.exists():
            results[name] = json.loads(path.read_text())
            lines += section(results[name]) + [""]
    lines += stack_rows()
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))
    from experiments.report import write_readme_block

    write_readme_block(
        START, END, "\n".join(summary(results)), "## Performance", Path("docs/benchmarks.md")
    )


if __name__ == "__main__":
    main()
