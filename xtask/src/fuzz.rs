//! `cargo xtask fuzz <target>|all|list [--seconds N] [--record]`: the cargo-fuzz targets in
//! `fuzz/fuzz_targets/` under libFuzzer, on the nightly toolchain.
//!
//! Each target starts from its committed seed corpus `fuzz/corpus/<target>/` (read only) and
//! keeps what it discovers in `<target dir>/fuzz-corpus/<target>/`; the fuzz crate builds in
//! `<target dir>/fuzz/` (the target dir is `target/` unless `CARGO_TARGET_DIR` says
//! otherwise). So a run never changes the repository unless `--record` asks it to write the
//! executions table in the "Fuzzing" section of `docs/reliability.md`. A crash stops nothing else: every selected
//! target runs, then the task fails naming each crashing target and its saved input under
//! `fuzz/artifacts/<target>/`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::cmd::{machine_summary, replace_marked, root, run, stdout_of, target_dir, utc_now};

/// cargo-fuzz version the task is written against (installed with `--locked` when missing).
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 60;

const DOC: &str = "docs/reliability.md";
const SECTION: &str = "## Fuzzing";
const BEGIN: &str = "<!-- fuzz:begin -->";
const END: &str = "<!-- fuzz:end -->";

/// What to fuzz and how long.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    /// A target name, or `None` for all of them.
    target: Option<String>,
    seconds: u64,
    record: bool,
}

fn parse_args(args: &[String]) -> Result<Option<Options>> {
    let mut target = None;
    let mut seconds = DEFAULT_SECONDS;
    let mut record = false;
    let mut list = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = it.next().context("`--seconds` needs a number of seconds")?;
                seconds = parse_seconds(value)?;
            }
            s if s.starts_with("--seconds=") => {
                seconds = parse_seconds(&s["--seconds=".len()..])?;
            }
            "--record" => record = true,
            "list" if target.is_none() && !list => list = true,
            s if s.starts_with('-') => bail!("unknown option `{s}` for `cargo xtask fuzz`"),
            s if target.is_none() && !list => target = Some(s.to_owned()),
            s => bail!("unexpected argument `{s}`: give one target, or `all`"),
        }
    }
    if list {
        return Ok(None);
    }
    let Some(target) = target else {
        bail!("which target? `cargo xtask fuzz <target>|all|list [--seconds N] [--record]`");
    };
    Ok(Some(Options {
        target: (target != "all").then_some(target),
        seconds,
        record,
    }))
}

fn parse_seconds(value: &str) -> Result<u64> {
    match value.parse::<u64>() {
        Ok(0) | Err(_) => bail!("`--seconds` wants a whole number above 0, not `{value}`"),
        Ok(n) => Ok(n),
    }
}

/// A fuzz target: its name and the first line of its `//!` docs.
#[derive(Debug, Clone)]
struct Target {
    name: String,
    checks: String,
}

fn discover_targets() -> Result<Vec<Target>> {
    let dir = root().join("fuzz/fuzz_targets");
    let entries = std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))?;
    let mut targets = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let source = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        targets.push(Target {
            name: name.to_owned(),
            checks: first_doc_line(&source).unwrap_or_default(),
        });
    }
    targets.sort_by(|a, b| a.name.cmp(&b.name));
    if targets.is_empty() {
        bail!("no fuzz targets in {}", dir.display());
    }
    Ok(targets)
}

/// The first `//!` line of a source file, without the marker.
fn first_doc_line(source: &str) -> Option<String> {
    source
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("//!"))
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
}

pub(crate) fn run_fuzz(args: &[String]) -> Result<()> {
    let targets = discover_targets()?;
    let Some(options) = parse_args(args)? else {
        for t in &targets {
            eprintln!("{:<24} {}", t.name, t.checks);
        }
        return Ok(());
    };
    let selected: Vec<Target> = match &options.target {
        None => targets.clone(),
        Some(name) => {
            let Some(t) = targets.iter().find(|t| &t.name == name) else {
                let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
                bail!(
                    "no fuzz target `{name}`; the targets are: {}",
                    names.join(", ")
                );
            };
            vec![t.clone()]
        }
    };
    for t in &selected {
        let seeds = seed_dir(&t.name);
        if !seeds.is_dir() {
            bail!(
                "fuzz target `{}` has no committed seed corpus at {}",
                t.name,
                seeds.display()
            );
        }
    }
    let toolchain = ensure_nightly()?;
    ensure_cargo_fuzz()?;

    let mut results = Vec::new();
    for t in &selected {
        let stats = fuzz_one(&t.name, options.seconds)?;
        results.push((t.clone(), stats));
    }

    eprintln!("\nfuzz: executions per target ({} s each)", options.seconds);
    for (t, s) in &results {
        eprintln!(
            "  {:<24} {:>12} executions  {}",
            t.name,
            s.executions.map_or_else(|| "?".to_owned(), group_digits),
            s.outcome()
        );
    }
    if options.record {
        record(&results, &options, &toolchain)?;
        eprintln!("fuzz: wrote the table in {DOC}");
    }
    let failed: Vec<String> = results
        .iter()
        .filter(|(_, s)| !s.passed())
        .map(|(t, s)| format!("{}: {}", t.name, s.outcome()))
        .collect();
    if !failed.is_empty() {
        bail!(
            "fuzzing found failures (inputs saved under fuzz/artifacts/):\n  {}",
            failed.join("\n  ")
        );
    }
    Ok(())
}

fn seed_dir(target: &str) -> PathBuf {
    root().join("fuzz/corpus").join(target)
}

/// A `cargo` that runs the nightly toolchain through rustup, whatever toolchain runs us.
fn nightly_cargo() -> Command {
    let mut c = Command::new("cargo");
    c.arg("+nightly")
        .current_dir(root())
        .env("CARGO_TARGET_DIR", target_dir().join("fuzz"));
    // Set by the stable cargo that started the xtask; they would pin the child to it.
    for var in [
        "CARGO",
        "RUSTC",
        "RUSTDOC",
        "RUSTUP_TOOLCHAIN",
        "RUSTC_WRAPPER",
    ] {
        c.env_remove(var);
    }
    c
}

/// Checks that a nightly toolchain is installed and returns its `rustc -V`.
fn ensure_nightly() -> Result<String> {
    let mut rustc = Command::new("rustc");
    rustc
        .args(["+nightly", "-V"])
        .env_remove("RUSTUP_TOOLCHAIN");
    stdout_of(&mut rustc).context(
        "fuzzing needs the nightly toolchain (libFuzzer instrumentation): \
         `rustup toolchain install nightly`",
    )
}

fn ensure_cargo_fuzz() -> Result<()> {
    let version = nightly_cargo()
        .args(["fuzz", "--version"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if version.is_some_and(|v| v.split_whitespace().any(|w| w == CARGO_FUZZ_VERSION)) {
        return Ok(());
    }
    run(crate::cmd::cargo().args([
        "install",
        "--locked",
        &format!("cargo-fuzz@{CARGO_FUZZ_VERSION}"),
    ]))
}

fn fuzz_one(target: &str, seconds: u64) -> Result<FuzzStats> {
    let work = target_dir().join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let mut cmd = nightly_cargo();
    cmd.args(["fuzz", "run", "--debug-assertions", target])
        .arg(&work)
        .arg(seed_dir(target))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    eprintln!(
        "$ cargo +nightly fuzz run --debug-assertions {target} {} {} -- -max_total_time={seconds} -print_final_stats=1",
        relative(&work),
        relative(&seed_dir(target))
    );
    let mut child = cmd
        .spawn()
        .context("could not start `cargo +nightly fuzz run`")?;
    let mut stats = FuzzStats::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line.context("reading libFuzzer's output")?;
            eprintln!("{line}");
            stats.observe(&line);
        }
    }
    let exit = child.wait().context("waiting for cargo fuzz")?;
    stats.exit_ok = exit.success();
    if !exit.success() && stats.executions.is_none() && !stats.crashed {
        bail!("`cargo +nightly fuzz run {target}` failed with {exit} before fuzzing started");
    }
    Ok(stats)
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// What libFuzzer said about one run, read from its status and `stat::` lines.
#[derive(Debug, Default, PartialEq, Eq)]
struct FuzzStats {
    /// Inputs executed (`stat::number_of_executed_units`, else `Done N runs`, else the last
    /// `#N` status line).
    executions: Option<u64>,
    exec_per_sec: Option<u64>,
    /// Coverage counters and features at the last status line.
    coverage: Option<u64>,
    features: Option<u64>,
    /// Inputs in the corpus at the last status line.
    corpus: Option<u64>,
    new_units: Option<u64>,
    peak_rss_mb: Option<u64>,
    /// libFuzzer reported a crash, leak, timeout or out-of-memory.
    crashed: bool,
    /// The file libFuzzer saved the failing input to.
    artifact: Option<String>,
    /// The fuzzing process exited successfully.
    exit_ok: bool,
}

impl FuzzStats {
    /// Feeds one line of libFuzzer's standard error.
    fn observe(&mut self, line: &str) {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("stat::") {
            if let Some((key, value)) = rest.split_once(':') {
                let value = value.trim().parse::<u64>().ok();
                match key.trim() {
                    "number_of_executed_units" => self.executions = value.or(self.executions),
                    "average_exec_per_sec" => self.exec_per_sec = value.or(self.exec_per_sec),
                    "new_units_added" => self.new_units = value,
                    "peak_rss_mb" => self.peak_rss_mb = value,
                    _ => {}
                }
            }
        } else if let Some(rest) = line.strip_prefix("Done ") {
            // `Done 123 runs in 61 second(s)`
            if let Some(n) = rest.split_whitespace().next().and_then(|n| n.parse().ok()) {
                self.executions = Some(n);
            }
        } else if let Some(rest) = line.strip_prefix('#') {
            self.status_line(rest);
        } else if line.contains("ERROR: libFuzzer:")
            || line.contains("ERROR: AddressSanitizer")
            || line.contains("ERROR: LeakSanitizer")
            || line.starts_with("SUMMARY: libFuzzer:")
        {
            self.crashed = true;
        } else if let Some(pos) = line.find("Test unit written to ") {
            let path = line[pos + "Test unit written to ".len()..].trim();
            self.artifact = Some(path.to_owned());
            self.crashed = true;
        }
    }

    /// `#1234\tpulse  cov: 56 ft: 78 corp: 9/123b lim: 4096 exec/s: 1000 rss: 40Mb`
    fn status_line(&mut self, rest: &str) {
        let mut words = rest.split_whitespace();
        let Some(count) = words.next().and_then(|n| n.parse::<u64>().ok()) else {
            return;
        };
        let Some(kind) = words.next() else { return };
        if !matches!(
            kind,
            "INITED" | "NEW" | "REDUCE" | "pulse" | "DONE" | "RELOAD"
        ) {
            return;
        }
        if self.executions.is_none_or(|e| e <= count) {
            self.executions = Some(count);
        }
        while let Some(key) = words.next() {
            let Some(value) = words.next() else { break };
            let number = value
                .split('/')
                .next()
                .and_then(|n| n.trim_end_matches("Mb").parse::<u64>().ok());
            match key {
                "cov:" => self.coverage = number.or(self.coverage),
                "ft:" => self.features = number.or(self.features),
                "corp:" => self.corpus = number.or(self.corpus),
                "exec/s:" => self.exec_per_sec = number.or(self.exec_per_sec),
                _ => {}
            }
        }
    }

    fn passed(&self) -> bool {
        self.exit_ok && !self.crashed
    }

    fn outcome(&self) -> String {
        if self.passed() {
            "no failure".to_owned()
        } else if let Some(path) = &self.artifact {
            format!("FAILED, input saved to {path}")
        } else {
            "FAILED".to_owned()
        }
    }
}

/// `1234567` as `1 234 567` (thin spaces read badly in Markdown tables; plain ones are fine).
fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// One row of the recorded table, keyed by the target name in its first cell.
fn table_row(target: &Target, stats: &FuzzStats, seconds: u64, date: &str) -> String {
    let opt = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), group_digits);
    format!(
        "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
        target.name,
        target.checks.replace('|', "\\|"),
        date,
        seconds,
        opt(stats.executions),
        opt(stats.exec_per_sec),
        opt(stats.corpus),
        stats.outcome()
    )
}

const TABLE_HEAD: &str = "| target | checks | run | seconds | executions | exec/s | corpus | result |\n\
                          |---|---|---|---:|---:|---:|---:|---|";

/// The target name in a recorded row's first cell, written in backticks.
fn row_target(row: &str) -> Option<&str> {
    let cell = row.strip_prefix('|')?.split('|').next()?.trim();
    cell.strip_prefix('`')?.strip_suffix('`')
}

/// The block between the markers: machine, command, then one row per target. Rows of
/// targets not run this time are kept from `previous` (if the target still exists).
fn table_block(
    previous: Option<&str>,
    new_rows: &[(String, String)],
    all_targets: &[String],
    machine: &str,
    toolchain: &str,
) -> String {
    let mut rows: Vec<(String, String)> = previous
        .unwrap_or_default()
        .lines()
        .filter_map(|l| Some((row_target(l)?.to_owned(), l.to_owned())))
        .filter(|(name, _)| all_targets.contains(name) && !new_rows.iter().any(|(n, _)| n == name))
        .collect();
    rows.extend(new_rows.iter().cloned());
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = String::new();
    let _ = writeln!(out, "Machine: {machine}; toolchain: {toolchain}.");
    let _ = writeln!(out);
    let _ = writeln!(out, "{TABLE_HEAD}");
    for (_, row) in rows {
        let _ = writeln!(out, "{row}");
    }
    out
}

/// The prose of a new "Fuzzing" section; the table goes between the markers.
fn new_section() -> String {
    format!(
        "{SECTION}\n\n\
The parsers and decoders that take bytes from users and files have cargo-fuzz targets in\n\
`fuzz/fuzz_targets/`, run under libFuzzer with AddressSanitizer and debug assertions, starting\n\
from small hand-made seed corpora committed in `fuzz/corpus/<target>/`. The targets assert\n\
laws, not only the absence of panics: a reference that parses prints back to the same text and\n\
parses again to an equal value, decryption of arbitrary bytes fails with one opaque error, a\n\
key file loads as the documented format says or fails without being touched, an import that\n\
parses exports and imports back unchanged, a git credential request that parses is written\n\
back as the same request, credentials docker stores are given back by `get`, the masking\n\
filter lets no masked value through however the output is cut, and no error from the\n\
resolver, an importer or a credential helper carries a stored value. `fuzz/` is a Cargo\n\
workspace of its own, so the nightly-only code never enters the main build; its targets\n\
depend on the library crates they test (`zlayer-secrets-formats`, `zlayer-secrets-inject`,\n\
`zlayer-secrets-helpers`, ...) like any other program.\n\n\
Run one target or all of them (nightly toolchain; `cargo-fuzz` {CARGO_FUZZ_VERSION} is installed\n\
when missing):\n\n\
```sh\n\
cargo xtask fuzz list\n\
cargo xtask fuzz secret_ref --seconds 300\n\
cargo xtask fuzz all --seconds 60 --record   # rewrites the table below\n\
```\n\n\
New inputs go to `target/fuzz-corpus/<target>/` (ignored by git); a crashing input is saved\n\
under `fuzz/artifacts/<target>/`; it becomes a regression test in the crate concerned (the\n\
input as a fixture in its `tests/fixtures/fuzzed/`), and the bug is fixed.\n\n\
Last recorded runs. The machine is shared with other builds, so executions per second vary\n\
widely from run to run: the counts show that every target ran for its time and found\n\
nothing, not how fast the code is.\n\n\
{BEGIN}\n{END}\n"
    )
}

/// Puts `block` between the markers of the "Fuzzing" section of `doc`, creating the section
/// (at the end) or the markers (at the end of the section) when missing. Text outside the
/// section is never touched.
fn update_doc(doc: &str, block: &str) -> String {
    if let Some(updated) = replace_marked(doc, BEGIN, END, block) {
        return updated;
    }
    let section_start = doc
        .match_indices(SECTION)
        .find(|(i, _)| {
            (*i == 0 || doc[..*i].ends_with('\n'))
                && doc[i + SECTION.len()..]
                    .lines()
                    .next()
                    .is_none_or(|rest| rest.trim().is_empty())
        })
        .map(|(i, _)| i);
    let with_markers = match section_start {
        Some(start) => {
            let body_start = start + SECTION.len();
            let end = doc[body_start..]
                .find("\n## ")
                .map_or(doc.len(), |i| body_start + i + 1);
            let mut out = String::new();
            out.push_str(doc[..end].trim_end_matches('\n'));
            let _ = write!(out, "\n\n{BEGIN}\n{END}\n");
            if end < doc.len() {
                out.push('\n');
                out.push_str(&doc[end..]);
            }
            out
        }
        None if doc.trim().is_empty() => {
            format!("# Reliability\n\n{}", new_section())
        }
        None => format!("{}\n\n{}", doc.trim_end_matches('\n'), new_section()),
    };
    replace_marked(&with_markers, BEGIN, END, block)
        .expect("the markers were just written in order")
}

fn record(results: &[(Target, FuzzStats)], options: &Options, toolchain: &str) -> Result<()> {
    let path = root().join(DOC);
    let doc = match std::fs::read_to_string(&path) {
        Ok(doc) => doc,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let date = utc_now()?;
    let new_rows: Vec<(String, String)> = results
        .iter()
        .map(|(t, s)| (t.name.clone(), table_row(t, s, options.seconds, &date)))
        .collect();
    let all: Vec<String> = discover_targets()?.into_iter().map(|t| t.name).collect();
    let previous = doc
        .find(BEGIN)
        .and_then(|b| Some(&doc[b..b + doc[b..].find(END)?]));
    let mut block = table_block(previous, &new_rows, &all, &machine_summary(), toolchain);
    let _ = write!(
        block,
        "\nA row is reproduced by `cargo xtask fuzz <target> --seconds <seconds>`; this table was \
         last written by `cargo xtask fuzz {} --seconds {} --record`.",
        options.target.as_deref().unwrap_or("all"),
        options.seconds
    );
    let updated = update_doc(&doc, &block);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, updated).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests;
