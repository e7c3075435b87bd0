//! Small process helpers: run a command, echo it first, fail with its status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail};

/// The repository root (the parent of `xtask/`).
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ lives inside the repository")
        .to_path_buf()
}

/// The cargo that runs us, so toolchain overrides carry through.
pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    c.current_dir(root());
    c
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs `cmd` with inherited output; an error if it fails.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = describe(cmd);
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed with {status}");
    }
    Ok(())
}

/// Runs `cmd`, echoing its stdout and stderr as they come would lose ordering; instead it
/// captures both, prints them, and returns them for inspection.
pub(crate) fn run_captured(cmd: &mut Command) -> Result<Output> {
    let shown = describe(cmd);
    eprintln!("$ {shown}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    print_stdout(&out.stdout);
    if !out.status.success() {
        bail!("`{shown}` failed with {}", out.status);
    }
    Ok(out)
}

#[allow(clippy::print_stdout)] // relaying a child's stdout is the point
fn print_stdout(bytes: &[u8]) {
    print!("{}", String::from_utf8_lossy(bytes));
}

/// Whether `program --version`-like probing succeeds.
pub(crate) fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` quietly and returns its standard output, trimmed; an error if it fails.
pub(crate) fn stdout_of(cmd: &mut Command) -> Result<String> {
    let shown = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("could not start `{shown}`"))?;
    if !out.status.success() {
        bail!("`{shown}` failed with {}", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The directory cargo builds into: `CARGO_TARGET_DIR` when set (relative to the
/// repository root), else `target/` at the root.
pub(crate) fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root().join(dir),
        _ => root().join("target"),
    }
}

/// The current date and time in UTC, as `2026-11-29 08:43 UTC`.
pub(crate) fn utc_now() -> Result<String> {
    stdout_of(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
}

/// One line describing this machine: logical CPUs, CPU model and memory, read from
/// `/proc` (parts that cannot be read are left out rather than guessed).
pub(crate) fn machine_summary() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    describe_machine(cpus, &cpuinfo, &meminfo)
}

fn describe_machine(cpus: usize, cpuinfo: &str, meminfo: &str) -> String {
    let mut parts = Vec::new();
    if cpus > 0 {
        parts.push(format!("{cpus} logical CPUs"));
    }
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map(|(_, model)| model.trim());
    if let Some(model) = model.filter(|m| !m.is_empty()) {
        parts.push(model.to_owned());
    }
    let mem_kib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kib| kib.trim().parse::<u64>().ok());
    if let Some(kib) = mem_kib {
        // Memory sizes are far below 2^52 KiB, so the conversion is exact enough for a label.
        #[allow(clippy::cast_precision_loss)]
        let gib = kib as f64 / (1024.0 * 1024.0);
        parts.push(format!("{gib:.1} GiB RAM"));
    }
    if parts.is_empty() {
        "unknown machine".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Replaces the text between the lines `begin` and `end` in `doc` with `body`, keeping the
/// marker lines and everything outside them. `None` when the markers are missing or out of
/// order, so the caller can decide where a new marked block goes.
pub(crate) fn replace_marked(doc: &str, begin: &str, end: &str, body: &str) -> Option<String> {
    let start = doc.find(begin)?;
    let after_begin = start + begin.len();
    let stop = after_begin + doc[after_begin..].find(end)?;
    let mut out = String::with_capacity(doc.len() + body.len());
    out.push_str(&doc[..after_begin]);
    out.push('\n');
    out.push_str(body.trim_end_matches('\n'));
    out.push('\n');
    out.push_str(&doc[stop..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{describe_machine, replace_marked};

    #[test]
    fn machine_line_from_proc_files() {
        let cpuinfo = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t: x\n";
        let meminfo = "MemTotal:       24683656 kB\nMemFree: 1 kB\n";
        assert_eq!(
            describe_machine(2, cpuinfo, meminfo),
            "2 logical CPUs, Intel(R) Xeon(R) Processor, 23.5 GiB RAM"
        );
        assert_eq!(describe_machine(0, "", ""), "unknown machine");
        assert_eq!(describe_machine(4, "", "garbage"), "4 logical CPUs");
    }

    #[test]
    fn replaces_only_between_markers() {
        let doc = "# Title\n\nprose\n<!-- b -->\nold\nrows\n<!-- e -->\nmore prose\n";
        let new = replace_marked(doc, "<!-- b -->", "<!-- e -->", "new\n").unwrap();
        assert_eq!(
            new,
            "# Title\n\nprose\n<!-- b -->\nnew\n<!-- e -->\nmore prose\n"
        );
        // Idempotent: replacing again with the same body changes nothing.
        assert_eq!(
            replace_marked(&new, "<!-- b -->", "<!-- e -->", "new").unwrap(),
            new
        );
        assert!(replace_marked("no markers", "<!-- b -->", "<!-- e -->", "x").is_none());
        assert!(
            replace_marked("<!-- e -->\n<!-- b -->", "<!-- b -->", "<!-- e -->", "x").is_none()
        );
    }
}
