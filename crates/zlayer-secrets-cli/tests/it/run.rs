//! `run`: resolution, masking, exit codes and signals.

use std::process::Stdio;

use crate::{Store, kill, spawn_lines};

fn setup() -> Store {
    let s = Store::new();
    s.put("db-password", "abcdef", &[]);
    s.put(
        "token",
        "t0k3n-value",
        &["--deployment", "default", "--service", "api"],
    );
    s.put(
        "API_KEY",
        r#"{"key":"sk-live-123","region":"eu"}"#,
        &["--env", "prod"],
    );
    s
}

#[test]
fn the_child_sees_resolved_values_and_output_is_masked() {
    let s = setup();
    let script = r#"printf '%s|%s|%s|%s' "$DB" "$TOKEN" "$STRIPE" "$PLAIN""#;
    let env = [
        ("DB", "$S:db-password"),
        ("TOKEN", "$S:@api/token"),
        ("STRIPE", "$secret://prod/API_KEY/key"),
        ("PLAIN", "plain-value"),
    ];
    let masked = s.run_script(&[], script, &env);
    assert_eq!(
        masked.ok().out(),
        "<concealed>|<concealed>|<concealed>|plain-value"
    );

    let direct = s.run_script(&["--no-masking"], script, &env);
    assert_eq!(
        direct.ok().out(),
        "abcdef|t0k3n-value|sk-live-123|plain-value"
    );
}

#[test]
fn a_value_split_across_writes_is_still_masked() {
    let s = setup();
    let r = s.run_script(
        &[],
        "printf abc; sleep 0.2; printf def; printf ' tail' >&2",
        &[("DB", "$S:db-password")],
    );
    r.ok();
    assert_eq!(r.out(), "<concealed>");
    assert_eq!(r.err(), " tail");
    // Parts that turn out not to be the secret come through.
    let r = s.run_script(
        &[],
        "printf abc; sleep 0.2; printf xyz",
        &[("DB", "$S:db-password")],
    );
    assert_eq!(r.ok().out(), "abcxyz");
}

#[test]
fn the_env_file_wins_and_may_hold_references() {
    let s = setup();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "DB='$S:db-password'\nMODE=from-file\n").unwrap();
    let r = s.run_script(
        &["--no-masking", "--env-file", file.path().to_str().unwrap()],
        r#"printf '%s %s' "$DB" "$MODE""#,
        &[("MODE", "inherited"), ("DB", "overridden")],
    );
    assert_eq!(r.ok().out(), "abcdef from-file");
    let bad = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(bad.path(), "A=1\nnot valid\n").unwrap();
    let r = s.run(&[
        "run",
        "--env-file",
        bad.path().to_str().unwrap(),
        "--",
        "true",
    ]);
    r.code(1).err_contains("line 2");
}

#[test]
fn env_selects_the_scope_of_short_references() {
    let s = setup();
    let r = s.run_script(
        &["--no-masking", "--env", "prod"],
        r#"printf %s "$K""#,
        &[("K", "$S:API_KEY/region")],
    );
    assert_eq!(r.ok().out(), "eu");
}

#[test]
fn an_unresolvable_reference_stops_before_the_command() {
    let s = setup();
    let marker = tempfile::tempdir().unwrap();
    let touched = marker.path().join("started");
    let script = format!("touch {}", touched.display());
    for (var, reference) in [
        ("MISSING_ONE", "$S:does-not-exist"),
        ("BAD_FIELD", "$S:db-password/field"),
        ("MALFORMED", "$S:@/x"),
        ("NO_ENV", "$secret://nowhere/KEY"),
    ] {
        let r = s.run_script(&[], &script, &[(var, reference)]);
        r.code(1);
        assert!(r.err().contains(var), "{var}: {}", r.err());
        assert!(!touched.exists(), "{var}: the command ran");
    }
}

#[test]
fn exit_codes_are_the_childs() {
    let s = setup();
    s.run(&["run", "--", "sh", "-c", "exit 7"]).code(7);
    s.run(&["run", "--", "sh", "-c", "kill -TERM $$"]).code(143);
    s.run(&["run", "--no-masking", "--", "sh", "-c", "exit 9"])
        .code(9);
    s.run(&["run"]).code(2);
}

#[test]
fn a_command_that_cannot_start_exits_like_a_shell() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let not_executable = dir.path().join("script.sh");
    std::fs::write(&not_executable, "#!/bin/sh\necho hi\n").unwrap();
    let not_executable = not_executable.to_str().unwrap();
    let a_directory = dir.path().to_str().unwrap();
    for flags in [&[][..], &["--no-masking"][..]] {
        let run = |program: &str| {
            let mut args = vec!["run"];
            args.extend_from_slice(flags);
            args.extend_from_slice(&["--", program]);
            s.run(&args)
        };
        run("/nonexistent/program")
            .code(127)
            .err_contains("command not found: /nonexistent/program");
        run("no-such-command-zlayer").code(127);
        run(not_executable).code(126).err_contains("cannot execute");
        run(a_directory).code(126);
    }
}

#[test]
fn termination_signals_reach_the_child() {
    let s = setup();
    let script = "trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.05; done";
    let (mut child, mut lines) = spawn_lines(
        s.command(&["run", "--", "sh", "-c", script]),
        Stdio::piped(),
    );
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    assert!(kill("-TERM", child.id()));
    assert_eq!(lines.next().unwrap().unwrap(), "got-term");
    assert_eq!(child.wait().unwrap().code(), Some(3));
}

#[test]
fn the_store_key_is_not_passed_on() {
    let s = Store::new();
    let hex = "33".repeat(32);
    s.run_with(
        &["set", "a", "--value", "x"],
        None,
        &[("ZLAYER_SECRETS_KEY", &hex)],
    )
    .ok();
    let r = s.run_script(&["--no-masking"], r#"printf '%s|%s|%s' "${ZLAYER_SECRETS_KEY-unset}" "${ZLAYER_SECRETS_PASSWORD-unset}" "$A""#, &[("ZLAYER_SECRETS_KEY", &hex), ("ZLAYER_SECRETS_PASSWORD", "pw"), ("A", "$S:a")]);
    assert_eq!(r.ok().out(), "unset|unset|x");
}

/// Credentials `zlayer-secret` reads that the local backend does not need, with values a
/// test can recognise (the store key and password are covered above).
const OWN_CREDENTIALS: [(&str, &str); 3] = [
    ("VAULT_TOKEN", "hvs.parent-vault-token"),
    ("ZLAYER_SECRETS_API_KEY", "zsk_parent-api-key"),
    ("ZLAYER_SECRETS_API_SECRET", "parent-api-secret"),
];

/// Prints each credential variable as the program sees it (`unset` if absent).
const PRINT_OWN_CREDENTIALS: &str = r#"for v in VAULT_TOKEN ZLAYER_SECRETS_KEY ZLAYER_SECRETS_PASSWORD ZLAYER_SECRETS_API_KEY ZLAYER_SECRETS_API_SECRET; do eval "printf '%s=%s|' \$v \"\${$v-unset}\""; done; printf '%s' "${A_FILE-}""#;

#[test]
fn credentials_of_zlayer_secret_never_reach_the_program_in_any_mode() {
    let s = Store::new();
    s.put("a", "value-of-a", &[]);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("m");
    let dir = dir.to_str().unwrap();
    let mut env: Vec<(&str, &str)> = vec![("A", "$S:a")];
    env.extend_from_slice(&OWN_CREDENTIALS);
    let all_unset = "VAULT_TOKEN=unset|ZLAYER_SECRETS_KEY=unset|ZLAYER_SECRETS_PASSWORD=unset|ZLAYER_SECRETS_API_KEY=unset|ZLAYER_SECRETS_API_SECRET=unset|";
    for (mode, flags) in [
        ("masked", &[][..]),
        ("--no-masking", &["--no-masking"][..]),
        ("--mount-dir", &["--mount-dir", dir][..]),
        (
            "--mount-dir --no-masking",
            &["--mount-dir", dir, "--no-masking"][..],
        ),
    ] {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "sh", "-c", PRINT_OWN_CREDENTIALS]);
        let r = s.run_with(&args, None, &env);
        let out = r.ok().out();
        assert!(out.starts_with(all_unset), "{mode}: {out}");
        for (_, value) in OWN_CREDENTIALS {
            assert!(!out.contains(value), "{mode}: {out}");
        }
    }
}

#[test]
fn keep_env_passes_a_credential_on_on_purpose() {
    let s = Store::new();
    let env = [
        ("VAULT_TOKEN", "hvs.parent-vault-token"),
        ("ZLAYER_SECRETS_API_KEY", "zsk_parent-api-key"),
    ];
    let script = r#"printf '%s|%s' "${VAULT_TOKEN-unset}" "${ZLAYER_SECRETS_API_KEY-unset}""#;
    let r = s.run_script(&["--no-masking", "--keep-env", "VAULT_TOKEN"], script, &env);
    assert_eq!(r.ok().out(), "hvs.parent-vault-token|unset");
    // Passed on, it is still a credential: masked in the program's output.
    let r = s.run_script(
        &[
            "--keep-env",
            "VAULT_TOKEN",
            "--keep-env",
            "ZLAYER_SECRETS_API_KEY",
        ],
        script,
        &env,
    );
    assert_eq!(r.ok().out(), "<concealed>|<concealed>");
    // Only the variables `run` removes can be kept: anything else is a mistake.
    let r = s.run(&["run", "--keep-env", "HOME", "--", "true"]);
    r.code(2).err_contains("--keep-env HOME");
}

#[test]
fn short_values_are_not_masked_and_named_in_one_warning() {
    let s = Store::new();
    s.put("pin", "x1z", &[]);
    s.put("ok", "long-enough", &[]);
    let env = [("PIN", "$S:pin"), ("PIN2", "$S:pin"), ("OK", "$S:ok")];
    let r = s.run_script(&[], r#"printf 'x1z %s %s' "$PIN" "$OK""#, &env);
    assert_eq!(r.ok().out(), "x1z x1z <concealed>");
    let err = r.err();
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert!(
        err.contains("PIN, PIN2") && err.contains("shorter than 4"),
        "{err}"
    );
    assert!(!err.contains("x1z"), "{err}");
    // Escape sequences around a value stay intact; the value is masked.
    let r = s.run_script(
        &[],
        r#"printf '\033[1;31m%s\033[0m\033]0;title\007' "$OK""#,
        &env,
    );
    assert_eq!(r.ok().out(), "\x1b[1;31m<concealed>\x1b[0m\x1b]0;title\x07");
}

#[test]
fn a_signal_the_program_handles_leaves_both_running() {
    let s = setup();
    // Ends by itself after about a minute, should the test fail half-way.
    let script = "trap 'echo got-usr1' USR1; trap 'echo got-alrm' ALRM; echo ready; i=0; while [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done";
    let (mut child, mut lines) = spawn_lines(
        s.command(&["run", "--", "sh", "-c", script]),
        Stdio::piped(),
    );
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    assert!(kill("-USR1", child.id()));
    assert_eq!(lines.next().unwrap().unwrap(), "got-usr1");
    assert!(kill("-ALRM", child.id()));
    assert_eq!(lines.next().unwrap().unwrap(), "got-alrm");
    assert!(kill("-TERM", child.id()));
    assert_eq!(child.wait().unwrap().code(), Some(143));
}

#[test]
fn references_inside_values_are_replaced_and_each_secret_masked() {
    let s = setup();
    let env = [
        (
            "DATABASE_URL",
            "postgres://app:{{ $S:db-password }}@127.0.0.1/db",
        ),
        (
            "BOTH",
            "{{$S:db-password}}+{{ $secret://prod/API_KEY/key }}",
        ),
        ("LITERAL", r"\{{ $S:db-password }}"),
    ];
    let script = r#"printf '%s\n%s\n%s\n%s' "$DATABASE_URL" "$BOTH" "$LITERAL" "$(printf %s "$DATABASE_URL" | cut -d: -f3 | cut -d@ -f1)""#;
    let direct = s.run_script(&["--no-masking"], script, &env);
    assert_eq!(
        direct.ok().out(),
        "postgres://app:abcdef@127.0.0.1/db\nabcdef+sk-live-123\n{{ $S:db-password }}\nabcdef"
    );
    // Masked: each secret on its own, also when printed without the rest of the value.
    let masked = s.run_script(&[], script, &env);
    assert_eq!(
        masked.ok().out(),
        "postgres://app:<concealed>@127.0.0.1/db\n<concealed>+<concealed>\n{{ $S:db-password }}\n<concealed>"
    );
    assert!(!masked.err().contains("warning"), "{}", masked.err());
}

#[test]
fn a_stray_reference_is_passed_on_with_a_warning_naming_the_variable() {
    let s = setup();
    let r = s.run_script(
        &["--no-masking"],
        r#"printf %s "$URL""#,
        &[("URL", "postgres://app:$S:db-password@db")],
    );
    assert_eq!(r.ok().out(), "postgres://app:$S:db-password@db");
    let err = r.err();
    assert!(err.contains("warning: URL contains `$S:`"), "{err}");
    assert!(!err.contains("abcdef") && !err.contains("app:"), "{err}");
    assert_eq!(err.matches("warning").count(), 1, "{err}");
}

#[test]
fn a_broken_placeholder_stops_before_the_command() {
    let s = setup();
    for (var, value) in [
        ("MISSING", "x={{ $S:does-not-exist }}"),
        ("MALFORMED", "x={{ $S:@/x }}"),
    ] {
        let r = s.run_script(&[], "echo started", &[(var, value)]);
        r.code(1);
        assert!(r.err().contains(var), "{var}: {}", r.err());
        assert!(!r.out().contains("started"), "{var}: the command ran");
    }
}

#[test]
fn env_files_layer_in_order_and_refuse_a_key_defined_twice() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.env");
    let second = dir.path().join("second.env");
    std::fs::write(&first, "A=first\nB=first\nDB='$S:db-password'\n").unwrap();
    std::fs::write(&second, "B=second\nC=second\n").unwrap();
    let (first, second) = (first.to_str().unwrap(), second.to_str().unwrap());
    let r = s.run_script(
        &["--no-masking", "--env-file", first, "--env-file", second],
        r#"printf '%s %s %s %s' "$A" "$B" "$C" "$DB""#,
        &[("A", "inherited"), ("C", "inherited")],
    );
    assert_eq!(r.ok().out(), "first second second abcdef");
    let r = s.run_script(
        &["--no-masking", "--env-file", second, "--env-file", first],
        r#"printf %s "$B""#,
        &[],
    );
    assert_eq!(r.ok().out(), "first");

    let twice = dir.path().join("twice.env");
    std::fs::write(&twice, "A=1\nB=2\nA=3\n").unwrap();
    let r = s.run_script(
        &["--env-file", first, "--env-file", twice.to_str().unwrap()],
        "echo started",
        &[],
    );
    r.code(1)
        .err_contains("line 3: \"A\" is defined again (first at line 1)");
    assert!(!r.out().contains("started"));
}

/// Three layers: `env:base` under `env:staging` under `env:prod`, with values no test
/// output may show in a dry run.
fn layered() -> Store {
    let s = Store::new();
    for (name, value, env) in [
        ("A", "base-a-value", "base"),
        ("B", "base-b-value", "base"),
        ("C", "base-c-value", "base"),
        ("not-a-variable", "base-x-value", "base"),
        ("B", "staging-b-value", "staging"),
        ("C", "staging-c-value", "staging"),
        ("D", "staging-d-value", "staging"),
        ("C", "prod-c-value", "prod"),
        ("E", "prod-e-value", "prod"),
    ] {
        s.put(name, value, &["--env", env]);
    }
    s
}

const PRINT_ALL: &str =
    r#"printf '%s|%s|%s|%s|%s|%s' "$A" "$B" "$C" "$D" "$E" "${not_a_variable-unset}""#;

#[test]
fn run_all_layers_three_scopes_and_the_primary_wins() {
    let s = layered();
    let flags = [
        "--all",
        "--env",
        "prod",
        "--merge",
        "base",
        "--merge",
        "staging",
        "--no-masking",
    ];
    let r = s.run_script(&flags, PRINT_ALL, &[("C", "inherited"), ("OTHER", "x")]);
    assert_eq!(
        r.ok().out(),
        "base-a-value|staging-b-value|prod-c-value|staging-d-value|prod-e-value|unset"
    );
    r.err_contains(
        "--all skips a secret whose name cannot be a variable name: not-a-variable (env:base)",
    );
    // The order of --merge decides between the merged environments.
    let r = s.run_script(
        &[
            "--all",
            "--env",
            "prod",
            "--merge",
            "staging",
            "--merge",
            "base",
            "--no-masking",
        ],
        PRINT_ALL,
        &[],
    );
    assert_eq!(
        r.ok().out(),
        "base-a-value|base-b-value|prod-c-value|staging-d-value|prod-e-value|unset"
    );
    // Masked like any secret.
    let masked = s.run_script(&flags[..7], PRINT_ALL, &[]);
    assert_eq!(
        masked.ok().out(),
        "<concealed>|<concealed>|<concealed>|<concealed>|<concealed>|unset"
    );
}

#[test]
fn preserve_env_keeps_the_inherited_value_and_only_limits() {
    let s = layered();
    let r = s.run_script(
        &[
            "--all",
            "--env",
            "prod",
            "--merge",
            "base",
            "--preserve-env",
            "C,Z",
            "--no-masking",
        ],
        PRINT_ALL,
        &[("C", "inherited-c"), ("E", "inherited-e")],
    );
    assert_eq!(
        r.ok().out(),
        "base-a-value|base-b-value|inherited-c||prod-e-value|unset"
    );
    let r = s.run_script(
        &[
            "--all",
            "--env",
            "prod",
            "--merge",
            "base",
            "--only",
            "A",
            "--only",
            "E",
            "--no-masking",
        ],
        PRINT_ALL,
        &[],
    );
    assert_eq!(r.ok().out(), "base-a-value||||prod-e-value|unset");
    let r = s.run_script(
        &["--all", "--env", "prod", "--only", "NOPE"],
        "echo started",
        &[],
    );
    r.code(1).err_contains("`NOPE`");
    assert!(!r.out().contains("started"));
    s.run(&["run", "--only", "A", "--", "true"]).code(2);
    s.run(&["run", "--merge", "base", "--", "true"]).code(2);
}

#[test]
fn dry_run_names_the_sources_and_shows_no_value() {
    let s = layered();
    let r = s.run_with(
        &[
            "run",
            "--all",
            "--env",
            "prod",
            "--merge",
            "base",
            "--merge",
            "staging",
            "--preserve-env",
            "D",
            "--dry-run",
        ],
        None,
        &[
            ("D", "inherited-d-value"),
            ("REF", "$S:E"),
            ("URL", "postgres://app:{{ $S:C }}@db"),
        ],
    );
    let out = r.ok().out();
    assert_eq!(
        out,
        "VARIABLE  FROM\n\
         A         secret of env:base\n\
         B         secret of env:staging\n\
         C         secret of env:prod\n\
         D         inherited (--preserve-env)\n\
         E         secret of env:prod\n\
         REF       reference $S:E\n\
         URL       template with $S:C\n"
    );
    // No value byte: every stored value ends in `-value`, the inherited one too.
    for text in [out.as_str(), r.err().as_str()] {
        assert!(!text.contains("-value"), "{text}");
        assert!(!text.contains("postgres"), "{text}");
    }
}
