use std::time::{Duration, SystemTime};

use super::{
    BEGIN, BenchCrate, BenchResult, END, Options, Throughput, collect_results, crates_with_benches,
    format_ns, format_rate, parse_args, parse_benchmark, parse_median, table, update_doc,
};

const ESTIMATES: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1510.2,"upper_bound":1580.9},"point_estimate":1540.0,"standard_error":18.0},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1498.5,"upper_bound":1523.25},"point_estimate":1510.75,"standard_error":6.1},"median_abs_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":10.0,"upper_bound":30.0},"point_estimate":20.0,"standard_error":5.0},"slope":null,"std_dev":{"confidence_interval":{"confidence_level":0.95,"lower_bound":50.0,"upper_bound":90.0},"point_estimate":70.0,"standard_error":10.0}}"#;

const BENCHMARK: &str = r#"{"group_id":"encrypt","function_id":null,"value_str":"1024","throughput":{"Bytes":1024},"full_id":"encrypt/1024","directory_name":"encrypt/1024","title":"encrypt/1024"}"#;

#[test]
fn reads_the_median_and_its_interval() {
    assert_eq!(parse_median(ESTIMATES).unwrap(), (1510.75, 1498.5, 1523.25));
    assert!(parse_median("{}").is_err());
    assert!(parse_median("not json").is_err());
    assert!(
        parse_median(r#"{"median":{"point_estimate":-1,"confidence_interval":{"lower_bound":0,"upper_bound":0}}}"#)
            .is_err()
    );
}

#[test]
fn reads_the_id_and_throughput() {
    assert_eq!(
        parse_benchmark(BENCHMARK).unwrap(),
        ("encrypt/1024".to_owned(), Some(Throughput::Bytes(1024.0)))
    );
    let elements = r#"{"full_id":"store/get_secrets/100","throughput":{"Elements":100}}"#;
    assert_eq!(
        parse_benchmark(elements).unwrap(),
        (
            "store/get_secrets/100".to_owned(),
            Some(Throughput::Elements(100.0))
        )
    );
    let none = r#"{"full_id":"argon2id/derive","throughput":null}"#;
    assert_eq!(
        parse_benchmark(none).unwrap(),
        ("argon2id/derive".to_owned(), None)
    );
    assert!(parse_benchmark(r#"{"throughput":null}"#).is_err());
}

#[test]
fn formats_durations_with_units() {
    assert_eq!(format_ns(12.345), "12.35 ns");
    assert_eq!(format_ns(1510.75), "1.511 µs");
    assert_eq!(format_ns(250_000.0), "250.0 µs");
    assert_eq!(format_ns(48_123_456.0), "48.12 ms");
    assert_eq!(format_ns(2_500_000_000.0), "2.500 s");
}

#[test]
fn formats_rates() {
    // 1 MiB in 1 ms is 1000 MiB/s.
    assert_eq!(
        format_rate(Throughput::Bytes(1_048_576.0), 1e6),
        "1000.0 MiB/s"
    );
    assert_eq!(format_rate(Throughput::Bytes(512.0), 1e9), "0.5 KiB/s");
    assert_eq!(
        format_rate(Throughput::Elements(100.0), 1e6),
        "100.0 k elem/s"
    );
    assert_eq!(format_rate(Throughput::Elements(10.0), 1e9), "10.0 elem/s");
    assert_eq!(format_rate(Throughput::Elements(1.0), 0.0), "");
}

#[test]
fn finds_crates_with_bench_targets() {
    let metadata = r#"{"packages":[
        {"name":"zlayer-secrets-sqlite","targets":[{"kind":["lib"],"name":"zlayer_secrets_sqlite"},{"kind":["bench"],"name":"store"},{"kind":["test"],"name":"it"}]},
        {"name":"xtask","targets":[{"kind":["bin"],"name":"xtask"}]},
        {"name":"zlayer-secrets-crypto","targets":[{"kind":["bench"],"name":"crypto"},{"kind":["bench"],"name":"kdf"}]}
    ]}"#;
    assert_eq!(
        crates_with_benches(metadata).unwrap(),
        vec![
            BenchCrate {
                name: "zlayer-secrets-crypto".to_owned(),
                benches: vec!["crypto".to_owned(), "kdf".to_owned()],
            },
            BenchCrate {
                name: "zlayer-secrets-sqlite".to_owned(),
                benches: vec!["store".to_owned()],
            },
        ]
    );
    assert!(crates_with_benches("{}").is_err());
}

#[test]
fn parses_arguments() {
    let args: Vec<String> = ["--quick", "-p", "a", "--package", "b"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(
        parse_args(&args).unwrap(),
        Options {
            quick: true,
            packages: vec!["a".to_owned(), "b".to_owned()],
        }
    );
    assert!(parse_args(&["-p".to_owned()]).is_err());
    assert!(parse_args(&["--slow".to_owned()]).is_err());
}

#[test]
fn collects_only_fresh_records() {
    let home = tempfile::tempdir().unwrap();
    let write = |dir: &str, id: &str| {
        let new = home.path().join(dir).join("new");
        std::fs::create_dir_all(&new).unwrap();
        std::fs::write(new.join("estimates.json"), ESTIMATES).unwrap();
        std::fs::write(
            new.join("benchmark.json"),
            BENCHMARK.replace("encrypt/1024", id),
        )
        .unwrap();
        // criterion keeps the previous run beside `new/`; it must be ignored.
        let base = home.path().join(dir).join("base");
        std::fs::create_dir_all(&base).unwrap();
        std::fs::write(base.join("estimates.json"), "garbage").unwrap();
    };
    write("encrypt/1024", "encrypt/1024");
    write("decrypt/64", "decrypt/64");
    std::fs::create_dir_all(home.path().join("report")).unwrap();

    let past = SystemTime::now() - Duration::from_secs(3600);
    let mut found = collect_results(home.path(), past).unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<&str> = found.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["decrypt/64", "encrypt/1024"]);
    assert!((found[0].median - 1510.75).abs() < f64::EPSILON);

    let future = SystemTime::now() + Duration::from_secs(3600);
    assert!(collect_results(home.path(), future).unwrap().is_empty());
    assert!(
        collect_results(&home.path().join("missing"), past)
            .unwrap()
            .is_empty()
    );
}

fn sample_rows() -> Vec<(String, BenchResult)> {
    vec![(
        "zlayer-secrets-crypto".to_owned(),
        BenchResult {
            id: "encrypt/1024".to_owned(),
            median: 1510.75,
            lower: 1498.5,
            upper: 1523.25,
            throughput: Some(Throughput::Bytes(1024.0)),
        },
    )]
}

#[test]
fn table_names_machine_command_and_mode() {
    let t = table(
        &sample_rows(),
        "2026-11-29 09:00 UTC",
        "2 logical CPUs",
        "rustc 1.95.0",
        "cargo xtask bench --quick",
        true,
    );
    assert!(t.starts_with(
        "Generated by `cargo xtask bench --quick` on 2026-11-29 09:00 UTC. \
         Machine: 2 logical CPUs; rustc 1.95.0.\n"
    ));
    assert!(t.contains("quick smoke run"));
    assert!(
        t.contains(
        "| zlayer-secrets-crypto | `encrypt/1024` | 1.511 µs | 1.498 µs – 1.523 µs | 646.4 MiB/s |"
        ),
        "{t}"
    );
    let full = table(&sample_rows(), "d", "m", "r", "cargo xtask bench", false);
    assert!(!full.contains("quick"));
}

#[test]
fn never_touches_prose_outside_the_markers() {
    let prose = "# Benchmarks\n\nThe store's figures, as ratios.\n";
    let created = update_doc(prose, "TABLE 1");
    assert!(created.starts_with(prose));
    assert!(created.contains(&format!("{BEGIN}\nTABLE 1\n{END}\n")));

    let with_more = created.clone() + "\n## Notes added later\n\nMore words.\n";
    let replaced = update_doc(&with_more, "TABLE 2");
    assert_eq!(replaced, with_more.replace("TABLE 1", "TABLE 2"));

    let fresh = update_doc("", "T");
    assert!(fresh.starts_with("# Benchmarks\n\n## Figures\n"));
}
