//! A whole session with 20 stored secrets: no value appears in any output or file except
//! where `get --reveal`, `export` or the child of `run --no-masking` print it on purpose.

use crate::{Rng, Store, contains};

#[test]
#[allow(clippy::too_many_lines)] // one scripted session, read top to bottom
fn no_value_leaks_anywhere() {
    let s = Store::new();
    let mut rng = Rng::new(0x1ea7);
    let values: Vec<String> = (0..20)
        .map(|i| {
            let tail: String = (0..16)
                .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36)]))
                .collect();
            // Distinctive, with characters that formats escape differently.
            match i % 3 {
                0 => format!("val{i}-{tail}"),
                1 => format!("val{i} $x \"q\" {tail}"),
                _ => format!("val{i}\nline two {tail}"),
            }
        })
        .collect();
    let names: Vec<String> = (0..20).map(|i| format!("SECRET_{i}")).collect();
    let mut allowed: Vec<usize> = Vec::new(); // log indices whose stdout may show values

    // Write them in every way there is.
    for (i, (name, value)) in names.iter().zip(&values).enumerate() {
        match i % 4 {
            0 => {
                s.run_with(
                    &["create", name, "--from-stdin"],
                    Some(value.as_bytes()),
                    &[],
                )
                .ok();
            }
            1 => {
                let file = tempfile::NamedTempFile::new().unwrap();
                std::fs::write(file.path(), value).unwrap();
                s.run(&["set", name, "--from-file", file.path().to_str().unwrap()])
                    .ok();
            }
            2 => {
                s.run_with(
                    &["set", name, "--from-stdin", "--env", "prod"],
                    Some(value.as_bytes()),
                    &[],
                )
                .ok();
                s.run_with(&["unset", name, "--env", "prod"], None, &[])
                    .ok();
                s.run_with(&["set", name, "--from-stdin"], Some(value.as_bytes()), &[])
                    .ok();
            }
            _ => {
                s.run(&["set", name, "--random"]).ok();
                s.run_with(
                    &["rotate", name, "--from-stdin"],
                    Some(value.as_bytes()),
                    &[],
                )
                .ok();
                s.run(&["rollback", name, "--to", "2"]).ok();
            }
        }
    }

    // Every read verb.
    s.run(&["ls"]).ok();
    s.run(&["ls", "--output", "json"]).ok();
    for name in &names {
        s.run(&["get", name]).ok();
        s.run(&["get", name, "--output", "json"]).ok();
        s.run(&["history", name]).ok();
        s.run(&["history", name, "--output", "json"]).ok();
    }
    s.run(&["get", &names[0], "--reveal"]).ok();
    allowed.push(s.log.borrow().len() - 1);
    s.run(&["export", "--format", "env"]).ok();
    allowed.push(s.log.borrow().len() - 1);
    s.run(&["export", "--format", "json"]).ok();
    allowed.push(s.log.borrow().len() - 1);

    // Import what was exported, into another scope, and a bad file.
    let exported = s.log.borrow()[allowed[1]].1.stdout.clone();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &exported).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    s.run(&["import", &path, "--env", "staging", "--dry-run"])
        .ok();
    s.run(&["import", &path, "--env", "staging"]).ok();
    s.run(&["import", &path, "--env", "staging", "--output", "json"])
        .ok();
    let mut broken = exported.clone();
    broken.extend_from_slice(b"broken line\n");
    std::fs::write(file.path(), &broken).unwrap();
    s.run(&["import", &path, "--env", "other"]).code(1);
    let mut json_bad = b"{\"A\": 1, \"B\": \"".to_vec();
    json_bad.extend_from_slice(values[0].as_bytes());
    json_bad.extend_from_slice(b"\"}");
    std::fs::write(file.path(), &json_bad).unwrap();
    s.run(&["import", &path, "--env", "other"]).code(1);

    // Errors that involve values.
    s.run_with(
        &["create", &names[0], "--from-stdin"],
        Some(values[0].as_bytes()),
        &[],
    )
    .code(1);
    s.run_with(
        &["rotate", "absent", "--from-stdin"],
        Some(values[1].as_bytes()),
        &[],
    )
    .code(1);

    // Grants, keys.
    s.run(&["grant", "alice", "--env", "prod", "--level", "read"])
        .ok();
    s.run(&["permissions", "--env", "prod"]).ok();
    s.run(&["revoke", "alice", "--env", "prod"]).ok();
    s.run(&["key", "status"]).ok();
    s.run(&["key", "rotate"]).ok();
    s.run(&["key", "rotate", "--reencrypt"]).ok();
    s.run(&["key", "status", "--output", "json"]).ok();

    // run: masked output, verbose logs, failures.
    let env: Vec<(String, String)> = names
        .iter()
        .map(|n| (n.clone(), format!("$S:{n}")))
        .collect();
    let env_refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let print_all = "env; for v in $(seq 0 19); do eval printf '%s' \\\"\\$SECRET_$v\\\"; done";
    s.run_script(&[], print_all, &env_refs).ok();
    let mut verbose = env_refs.clone();
    verbose.push(("RUST_LOG", "trace"));
    s.run_script(&[], print_all, &verbose).ok();
    s.run_with(&["ls"], None, &verbose).ok();
    s.run_with(&["get", &names[3]], None, &verbose).ok();
    let mut failing = env_refs.clone();
    failing.push(("BROKEN", "$S:missing-one"));
    s.run_with(&["run", "--", "true"], None, &failing).code(1);
    s.run_script(&["--no-masking"], print_all, &env_refs).ok();
    let child_printed = s.log.borrow().len() - 1;

    // Check every output.
    let log = s.log.borrow();
    for (i, (args, run)) in log.iter().enumerate() {
        for value in &values {
            if !allowed.contains(&i) && i != child_printed {
                assert!(
                    !contains(&run.stdout, value.as_bytes()),
                    "stdout of {args:?} shows a value"
                );
            }
            assert!(
                !contains(&run.stderr, value.as_bytes()),
                "stderr of {args:?} shows a value"
            );
        }
    }
    // The allowed outputs really did print values (the check above can fail).
    assert!(contains(&log[allowed[0]].1.stdout, values[0].as_bytes()));
    assert!(contains(&log[child_printed].1.stdout, values[5].as_bytes()));

    // And no file of the data directory holds one in clear (nor a line of one).
    for path in s.files() {
        let bytes = std::fs::read(&path).unwrap();
        for value in &values {
            for piece in value.split('\n').filter(|p| p.len() >= 8) {
                assert!(
                    !contains(&bytes, piece.as_bytes()),
                    "{} holds a value",
                    path.display()
                );
            }
        }
    }
}
