#!/usr/bin/env python3
"""Medians of critest -benchmark results per runtime, and berth's ratio to the last runtime given (the
reference). Usage: summarize.py OUT_DIR berth [containerd]"""
import json
import os
import statistics
import sys

FILES = ["pod_benchmark_data.json", "container_benchmark_data.json", "image_lifecycle_benchmark_data.json",
         "image_listing_benchmark_data.json"]


def medians(directory):
    found = {}
    for name in FILES:
        path = os.path.join(directory, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            data = json.load(f)
        ops = data["operationsNames"]
        for i, op in enumerate(ops):
            samples = [p["operationsDurationsNs"][i] for p in data["datapoints"] if len(p["operationsDurationsNs"]) > i]
            if samples:
                found[op] = (statistics.median(samples) / 1e6, len(samples))
    report = os.path.join(directory, "report.json")
    if os.path.exists(report):
        with open(report) as f:
            suites = json.load(f)
        for suite in suites:
            for spec in suite.get("SpecReports") or []:
                for entry in spec.get("ReportEntries") or []:
                    if entry.get("Name") != "start-container-benchmark":
                        continue
                    exp = json.loads(entry["Value"]["AsJSON"])
                    for m in exp.get("Measurements") or []:
                        if m.get("Durations"):
                            found["RunPodSandbox+CreateContainer+StartContainer+Stop+Remove"] = (
                                statistics.median(m["Durations"]) / 1e6, len(m["Durations"]))
    return found


def main():
    out, runtimes = sys.argv[1], sys.argv[2:]
    results = {r: medians(os.path.join(out, r)) for r in runtimes}
    ops = []
    for r in runtimes:
        for op in results[r]:
            if op not in ops:
                ops.append(op)
    ref = runtimes[-1] if len(runtimes) > 1 else None
    head = "| operation | samples | " + " | ".join(f"{r} median (ms)" for r in runtimes)
    head += f" | berth / {ref} |" if ref else " |"
    print(head)
    print("|" + " --- |" * (head.count("|") - 1))
    for op in ops:
        cells = [f"{results[r][op][0]:.1f}" if op in results[r] else "-" for r in runtimes]
        n = max(results[r][op][1] for r in runtimes if op in results[r])
        row = f"| {op} | {n} | " + " | ".join(cells)
        if ref:
            b, c = results["berth"].get(op), results[ref].get(op)
            row += f" | {b[0] / c[0]:.2f} |" if b and c and c[0] > 0 else " | - |"
        else:
            row += " |"
        print(row)


if __name__ == "__main__":
    main()
