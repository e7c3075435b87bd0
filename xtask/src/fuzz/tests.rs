use super::{
    BEGIN, END, FuzzStats, Options, Target, first_doc_line, group_digits, parse_args, row_target,
    table_block, table_row, update_doc,
};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn feed(output: &str) -> FuzzStats {
    let mut stats = FuzzStats::default();
    for line in output.lines() {
        stats.observe(line);
    }
    stats
}

const CLEAN_RUN: &str = "\
INFO: Running with entropic power schedule (0xFF, 100).
INFO: Seed: 3170264436
INFO:        0 files found in fuzz/target/corpus/secret_ref
INFO:        9 files found in fuzz/corpus/secret_ref
INFO: seed corpus: files: 9 min: 3b max: 31b total: 160b rss: 31Mb
#10\tINITED cov: 411 ft: 502 corp: 9/160b exec/s: 0 rss: 32Mb
#12\tNEW    cov: 415 ft: 510 corp: 10/171b lim: 31 exec/s: 0 rss: 32Mb L: 11/31 MS: 2 ChangeBit-CopyPart-
#524288\tpulse  cov: 600 ft: 1400 corp: 180/4000b lim: 4096 exec/s: 17476 rss: 60Mb
#1048577\tDONE   cov: 611 ft: 1466 corp: 187/4321b lim: 4096 exec/s: 17189 rss: 61Mb
Done 1048577 runs in 61 second(s)
stat::number_of_executed_units: 1048577
stat::average_exec_per_sec:     17189
stat::new_units_added:          178
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              61
";

#[test]
fn reads_a_clean_run() {
    let mut stats = feed(CLEAN_RUN);
    stats.exit_ok = true;
    assert_eq!(stats.executions, Some(1_048_577));
    assert_eq!(stats.exec_per_sec, Some(17_189));
    assert_eq!(stats.coverage, Some(611));
    assert_eq!(stats.features, Some(1466));
    assert_eq!(stats.corpus, Some(187));
    assert_eq!(stats.new_units, Some(178));
    assert_eq!(stats.peak_rss_mb, Some(61));
    assert!(!stats.crashed);
    assert!(stats.passed());
    assert_eq!(stats.outcome(), "no failure");
}

#[test]
fn executions_come_from_the_last_status_line_without_final_stats() {
    let stats = feed(
        "#1\tINITED cov: 3 ft: 3 corp: 1/1b exec/s: 0 rss: 30Mb\n\
         #4096\tpulse  cov: 9 ft: 9 corp: 2/5b lim: 4 exec/s: 2048 rss: 30Mb\n",
    );
    assert_eq!(stats.executions, Some(4096));
    assert_eq!(stats.exec_per_sec, Some(2048));
    assert_eq!(stats.corpus, Some(2));
}

#[test]
fn done_line_alone_gives_executions() {
    let stats = feed("Done 77 runs in 1 second(s)\n");
    assert_eq!(stats.executions, Some(77));
}

#[test]
fn ignores_lines_that_only_look_like_status() {
    let stats = feed("#not a number\n# 12 comment\n#12\tweird cov: 1\nstat::peak_rss_mb: lots\n");
    assert_eq!(stats, FuzzStats::default());
}

#[test]
fn reads_a_crash_and_its_artifact() {
    let out = "\
#2\tINITED cov: 10 ft: 10 corp: 1/1b exec/s: 0 rss: 30Mb
thread '<unnamed>' panicked at fuzz_targets/secret_ref.rs:20:9:
round trip changed the value
==41822== ERROR: libFuzzer: deadly signal
SUMMARY: libFuzzer: deadly signal
MS: 1 InsertByte-; base unit: 0000
artifact_prefix='/work/main/fuzz/artifacts/secret_ref/'; Test unit written to /work/main/fuzz/artifacts/secret_ref/crash-0a1b
Base64: JFM6YQ==
stat::number_of_executed_units: 35
";
    let stats = feed(out);
    assert!(stats.crashed);
    assert!(!stats.passed());
    assert_eq!(stats.executions, Some(35));
    assert_eq!(
        stats.artifact.as_deref(),
        Some("/work/main/fuzz/artifacts/secret_ref/crash-0a1b")
    );
    assert_eq!(
        stats.outcome(),
        "FAILED, input saved to /work/main/fuzz/artifacts/secret_ref/crash-0a1b"
    );
}

#[test]
fn a_failed_exit_without_crash_lines_is_a_failure() {
    let mut stats = feed(CLEAN_RUN);
    stats.exit_ok = false;
    assert!(!stats.passed());
    assert_eq!(stats.outcome(), "FAILED");
}

#[test]
fn parses_arguments() {
    assert_eq!(
        parse_args(&args(&["all", "--seconds", "60", "--record"])).unwrap(),
        Some(Options {
            target: None,
            seconds: 60,
            record: true
        })
    );
    assert_eq!(
        parse_args(&args(&["secret_ref", "--seconds=5"])).unwrap(),
        Some(Options {
            target: Some("secret_ref".to_owned()),
            seconds: 5,
            record: false
        })
    );
    assert_eq!(
        parse_args(&args(&["decrypt"])).unwrap().unwrap().seconds,
        60
    );
    assert_eq!(parse_args(&args(&["list"])).unwrap(), None);
    for bad in [
        &["all", "--seconds"][..],
        &["all", "--seconds", "0"],
        &["all", "--seconds", "-3"],
        &["all", "--seconds", "1m"],
        &["all", "--fast"],
        &["a", "b"],
        &[],
    ] {
        assert!(parse_args(&args(bad)).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn doc_line_is_the_first_inner_doc_comment() {
    let src = "#![no_main]\n//! Parses a reference, prints it, parses it again.\n//! More.\n";
    assert_eq!(
        first_doc_line(src).as_deref(),
        Some("Parses a reference, prints it, parses it again.")
    );
    assert_eq!(first_doc_line("fn main() {}\n"), None);
}

#[test]
fn groups_digits_by_thousands() {
    assert_eq!(group_digits(0), "0");
    assert_eq!(group_digits(999), "999");
    assert_eq!(group_digits(1000), "1 000");
    assert_eq!(group_digits(1_048_577), "1 048 577");
}

fn target(name: &str) -> Target {
    Target {
        name: name.to_owned(),
        checks: format!("checks {name} | safely"),
    }
}

#[test]
fn rows_name_their_target_and_escape_pipes() {
    let mut stats = feed(CLEAN_RUN);
    stats.exit_ok = true;
    let row = table_row(&target("decrypt"), &stats, 60, "2026-11-29 09:00 UTC");
    assert_eq!(
        row,
        "| `decrypt` | checks decrypt \\| safely | 2026-11-29 09:00 UTC | 60 | 1 048 577 | \
         17 189 | 187 | no failure |"
    );
    assert_eq!(row_target(&row), Some("decrypt"));
    assert_eq!(row_target("|---|---|"), None);
    assert_eq!(row_target("| target | checks |"), None);
}

#[test]
fn single_target_runs_keep_the_other_rows() {
    let previous = "Machine: old.\n\n| target | ... |\n|---|\n\
                    | `a` | old a |\n| `b` | old b |\n| `gone` | removed target |\n";
    let block = table_block(
        Some(previous),
        &[("b".to_owned(), "| `b` | new b |".to_owned())],
        &["a".to_owned(), "b".to_owned(), "c".to_owned()],
        "2 logical CPUs",
        "rustc 1.97.0-nightly",
    );
    assert!(block.starts_with("Machine: 2 logical CPUs; toolchain: rustc 1.97.0-nightly.\n"));
    assert!(block.contains("| `a` | old a |\n| `b` | new b |\n"));
    assert!(!block.contains("old b"));
    assert!(!block.contains("gone"));
}

#[test]
fn creates_the_document_when_missing() {
    let doc = update_doc("", "TABLE");
    assert!(doc.starts_with("# Reliability\n\n## Fuzzing\n"));
    assert!(doc.contains(&format!("{BEGIN}\nTABLE\n{END}\n")));
}

#[test]
fn appends_the_section_and_leaves_other_sections_alone() {
    let before = "# Reliability\n\n## Crash safety\n\nkill -9 tests.\n";
    let doc = update_doc(before, "TABLE");
    assert!(doc.starts_with(before));
    assert!(doc.contains("## Fuzzing\n"));
    assert!(doc.contains(&format!("{BEGIN}\nTABLE\n{END}\n")));
    // A second update replaces only the table.
    let again = update_doc(&doc, "TABLE 2");
    assert_eq!(again, doc.replace("TABLE", "TABLE 2"));
}

#[test]
fn adds_markers_to_an_existing_section_without_them() {
    let before = "# Reliability\n\n## Fuzzing\n\nOur words.\n\n## Tampering\n\nOther words.\n";
    let doc = update_doc(before, "TABLE");
    assert_eq!(
        doc,
        format!(
            "# Reliability\n\n## Fuzzing\n\nOur words.\n\n{BEGIN}\nTABLE\n{END}\n\n\
             ## Tampering\n\nOther words.\n"
        )
    );
    // `## Fuzzing targets` is another heading, not this section.
    let other = update_doc("## Fuzzing targets\n\ntext\n", "T");
    assert!(other.starts_with("## Fuzzing targets\n\ntext\n\n## Fuzzing\n"));
}
