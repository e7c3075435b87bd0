//! `cargo xtask bench [--quick] [-p CRATE]...`: the criterion benchmarks (`benches/*.rs`) of
//! every workspace crate that has them, one crate at a time, then a generated table of their
//! medians in `docs/benchmarks.md`.
//!
//! The figures come from criterion's own records, `<criterion home>/**/new/estimates.json`
//! and `benchmark.json`, written during this run (older records of benchmarks that no longer
//! exist are ignored). The table lives between `<!-- bench:begin -->` and
//! `<!-- bench:end -->`; everything outside those markers is prose that this task never
//! touches (the markers are appended at the end of the file when missing).
//!
//! `--quick` is a smoke run (short warm-up and measurement, 10 samples): it proves the
//! benchmarks work and gives rough figures, marked as such in the table. Benchmarks are not
//! part of `cargo xtask ci`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cmd::{
    cargo, machine_summary, replace_marked, root, run, stdout_of, target_dir, utc_now,
};

const DOC: &str = "docs/benchmarks.md";
const BEGIN: &str = "<!-- bench:begin -->";
const END: &str = "<!-- bench:end -->";
/// Criterion options of a `--quick` run.
const QUICK: [&str; 6] = [
    "--warm-up-time",
    "0.5",
    "--measurement-time",
    "1",
    "--sample-size",
    "10",
];

#[derive(Debug, PartialEq, Eq)]
struct Options {
    quick: bool,
    packages: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut options = Options {
        quick: false,
        packages: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "-p" | "--package" => {
                let name = it.next().context("`-p` needs a crate name")?;
                options.packages.push(name.clone());
            }
            other => bail!("unknown argument `{other}` for `cargo xtask bench`"),
        }
    }
    Ok(options)
}

/// A workspace crate with criterion benchmarks.
#[derive(Debug, PartialEq, Eq)]
struct BenchCrate {
    name: String,
    benches: Vec<String>,
}

/// The crates of `cargo metadata --no-deps` output that have `bench` targets, by name.
fn crates_with_benches(metadata: &str) -> Result<Vec<BenchCrate>> {
    let value: Value = serde_json::from_str(metadata).context("parsing `cargo metadata`")?;
    let packages = value["packages"]
        .as_array()
        .context("`cargo metadata` output has no `packages` list")?;
    let mut crates = Vec::new();
    for package in packages {
        let name = package["name"].as_str().unwrap_or_default();
        let benches: Vec<String> = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "bench"))
            })
            .filter_map(|t| t["name"].as_str().map(str::to_owned))
            .collect();
        if !benches.is_empty() {
            crates.push(BenchCrate {
                name: name.to_owned(),
                benches,
            });
        }
    }
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(crates)
}

pub(crate) fn run_bench(args: &[String]) -> Result<()> {
    let options = parse_args(args)?;
    let metadata = stdout_of(cargo().args(["metadata", "--no-deps", "--format-version", "1"]))?;
    let mut crates = crates_with_benches(&metadata)?;
    if !options.packages.is_empty() {
        for p in &options.packages {
            if !crates.iter().any(|c| &c.name == p) {
                let names: Vec<&str> = crates.iter().map(|c| c.name.as_str()).collect();
                bail!(
                    "crate `{p}` has no benchmarks; these do: {}",
                    names.join(", ")
                );
            }
        }
        crates.retain(|c| options.packages.contains(&c.name));
    }
    if crates.is_empty() {
        bail!("no workspace crate has benchmarks (`benches/*.rs` with criterion)");
    }

    let home = target_dir().join("criterion");
    let mut rows = Vec::new();
    let mut silent = Vec::new();
    for krate in &crates {
        let started = SystemTime::now();
        let mut cmd = cargo();
        cmd.args(["bench", "--locked", "-p", &krate.name]);
        for b in &krate.benches {
            cmd.args(["--bench", b]);
        }
        cmd.arg("--");
        if options.quick {
            cmd.args(QUICK);
        }
        cmd.env("CRITERION_HOME", &home);
        run(&mut cmd)?;
        let mut found = collect_results(&home, started)?;
        if found.is_empty() {
            // Benchmarks that need something absent here (an OpenBao server) skip themselves.
            eprintln!(
                "bench: `cargo bench -p {}` wrote no criterion results under {}; see its output",
                krate.name,
                home.display()
            );
            silent.push(krate.name.clone());
            continue;
        }
        found.sort_by(|a, b| a.id.cmp(&b.id));
        rows.extend(found.into_iter().map(|r| (krate.name.clone(), r)));
    }

    let mut command = String::from("cargo xtask bench");
    if options.quick {
        command.push_str(" --quick");
    }
    for p in &options.packages {
        let _ = write!(command, " -p {p}");
    }
    let rustc = stdout_of(std::process::Command::new("rustc").arg("-V"))?;
    if rows.is_empty() {
        bail!("no benchmark wrote any result; {DOC} is left as it was");
    }
    let mut block = table(
        &rows,
        &utc_now()?,
        &machine_summary(),
        &rustc,
        &command,
        options.quick,
    );
    if !silent.is_empty() {
        let _ = writeln!(
            block,
            "\nNo figures from {} in this run: its benchmarks wrote no results (they skip \
             themselves when what they measure is not available, such as an OpenBao server).",
            silent.join(", ")
        );
    }
    let path = root().join(DOC);
    let doc = match std::fs::read_to_string(&path) {
        Ok(doc) => doc,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    std::fs::write(&path, update_doc(&doc, &block))
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("bench: {} benchmarks written to {DOC}", rows.len());
    Ok(())
}

/// One benchmark's figures, times in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
struct BenchResult {
    id: String,
    median: f64,
    lower: f64,
    upper: f64,
    throughput: Option<Throughput>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Throughput {
    Bytes(f64),
    Elements(f64),
}

/// Every `new/` record under `home` written at or after `since`.
fn collect_results(home: &Path, since: SystemTime) -> Result<Vec<BenchResult>> {
    let mut out = Vec::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                if let Some(result) = read_record(&path, since)? {
                    out.push(result);
                }
            } else {
                stack.push(path);
            }
        }
    }
    Ok(out)
}

fn read_record(new_dir: &Path, since: SystemTime) -> Result<Option<BenchResult>> {
    let estimates_path = new_dir.join("estimates.json");
    let benchmark_path = new_dir.join("benchmark.json");
    let Ok(meta) = std::fs::metadata(&estimates_path) else {
        return Ok(None);
    };
    if meta.modified().is_ok_and(|m| m < since) {
        return Ok(None);
    }
    let read = |p: &PathBuf| {
        std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
    };
    let (id, throughput) = parse_benchmark(&read(&benchmark_path)?)
        .with_context(|| format!("in {}", benchmark_path.display()))?;
    let (median, lower, upper) = parse_median(&read(&estimates_path)?)
        .with_context(|| format!("in {}", estimates_path.display()))?;
    Ok(Some(BenchResult {
        id,
        median,
        lower,
        upper,
        throughput,
    }))
}

/// The id and throughput from criterion's `benchmark.json`.
fn parse_benchmark(json: &str) -> Result<(String, Option<Throughput>)> {
    let value: Value = serde_json::from_str(json)?;
    let id = value["full_id"]
        .as_str()
        .or_else(|| value["title"].as_str())
        .context("no `full_id` in benchmark.json")?
        .to_owned();
    let t = &value["throughput"];
    let throughput = if let Some(n) = t["Bytes"].as_f64().or_else(|| t["BytesDecimal"].as_f64()) {
        Some(Throughput::Bytes(n))
    } else {
        t["Elements"].as_f64().map(Throughput::Elements)
    };
    Ok((id, throughput))
}

/// The median's point estimate and confidence bounds (ns) from `estimates.json`.
fn parse_median(json: &str) -> Result<(f64, f64, f64)> {
    let value: Value = serde_json::from_str(json)?;
    let median = &value["median"];
    let get = |v: &Value, what: &str| {
        v.as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0)
            .with_context(|| format!("no valid median {what} in estimates.json"))
    };
    Ok((
        get(&median["point_estimate"], "point estimate")?,
        get(&median["confidence_interval"]["lower_bound"], "lower bound")?,
        get(&median["confidence_interval"]["upper_bound"], "upper bound")?,
    ))
}

/// A duration in nanoseconds with four significant digits and a fitting unit.
fn format_ns(ns: f64) -> String {
    let (value, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    let decimals = if value >= 100.0 {
        1
    } else if value >= 10.0 {
        2
    } else {
        3
    };
    format!("{value:.decimals$} {unit}")
}

/// Throughput at the median time.
fn format_rate(throughput: Throughput, median_ns: f64) -> String {
    if median_ns <= 0.0 {
        return String::new();
    }
    let per_second = |n: f64| n / (median_ns / 1e9);
    match throughput {
        Throughput::Bytes(n) => {
            let mib = per_second(n) / (1024.0 * 1024.0);
            if mib >= 1.0 {
                format!("{mib:.1} MiB/s")
            } else {
                format!("{:.1} KiB/s", mib * 1024.0)
            }
        }
        Throughput::Elements(n) => {
            let rate = per_second(n);
            if rate >= 1e6 {
                format!("{:.2} M elem/s", rate / 1e6)
            } else if rate >= 1e3 {
                format!("{:.1} k elem/s", rate / 1e3)
            } else {
                format!("{rate:.1} elem/s")
            }
        }
    }
}

fn table(
    rows: &[(String, BenchResult)],
    date: &str,
    machine: &str,
    rustc: &str,
    command: &str,
    quick: bool,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Generated by `{command}` on {date}. Machine: {machine}; {rustc}."
    );
    if quick {
        let _ = writeln!(
            out,
            "\nThis was a quick smoke run (0.5 s warm-up, 1 s measurement, 10 samples): the \
             figures are rough."
        );
    }
    let _ = writeln!(
        out,
        "\n| crate | benchmark | median | 95% interval of the median | throughput |\n\
         |---|---|---:|---|---:|"
    );
    for (krate, r) in rows {
        let rate = r
            .throughput
            .map(|t| format_rate(t, r.median))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {krate} | `{}` | {} | {} – {} | {rate} |",
            r.id.replace('|', "\\|"),
            format_ns(r.median),
            format_ns(r.lower),
            format_ns(r.upper),
        );
    }
    out
}

/// Puts `block` between the markers, appending a "Figures" section with them when missing.
fn update_doc(doc: &str, block: &str) -> String {
    if let Some(updated) = replace_marked(doc, BEGIN, END, block) {
        return updated;
    }
    let mut base = if doc.trim().is_empty() {
        String::from("# Benchmarks\n")
    } else {
        doc.trim_end_matches('\n').to_owned() + "\n"
    };
    let _ = write!(
        base,
        "\n## Figures\n\nGenerated by `cargo xtask bench`; do not edit between the markers.\n\n\
         {BEGIN}\n{END}\n"
    );
    replace_marked(&base, BEGIN, END, block).expect("the markers were just written in order")
}

#[cfg(test)]
mod tests;
