use std::error::Error as _;
use std::io;
use std::path::PathBuf;

use zlayer_secrets_ref::SecretRef;

use super::*;

/// A stand-in for a secret value: no message may contain it.
const VALUE: &str = "s3cr3t-value-0c7d";

/// `error`'s message is one line, holds every part of `parts` and no value.
#[track_caller]
fn check(error: &SecretsError, parts: &[&str]) {
    let shown = error.to_string();
    assert!(!shown.contains('\n'), "one line: {shown:?}");
    assert!(!shown.contains(VALUE), "no value: {shown}");
    assert!(
        !format!("{error:?}").contains(VALUE),
        "no value in Debug: {error:?}"
    );
    for part in parts {
        assert!(shown.contains(part), "{part:?} missing from: {shown}");
    }
}

fn io_error() -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, "denied by the test")
}

#[test]
fn conflict_names_the_secret_and_the_version() {
    let e = SecretsError::Conflict {
        scope: "shop".into(),
        name: "db".into(),
        expected: 7,
    };
    check(&e, &["shop/db", "expected version 7", "concurrently"]);
}

#[test]
fn wrong_key_names_the_store_the_key_and_why() {
    let e = SecretsError::WrongKey {
        store: Some(PathBuf::from("/data/secrets.sqlite")),
        key: Some("environment variable ZLAYER_SECRETS_KEY".into()),
        reason: Box::new(WrongKeyReason::Mismatch {
            offered: "aaaa1111".into(),
            locked_with: "bbbb2222".into(),
            unfinished_rotation: Some(PathBuf::from("/data/k.new")),
        }),
    };
    check(
        &e,
        &[
            "the key from the environment variable ZLAYER_SECRETS_KEY does not open the store \
             /data/secrets.sqlite: ",
            "aaaa1111",
            "bbbb2222",
            "/data/k.new",
        ],
    );
    let e = SecretsError::WrongKey {
        store: None,
        key: None,
        reason: Box::new(WrongKeyReason::Replaced),
    };
    check(
        &e,
        &["the key does not open the store: ", "another process"],
    );
    let e = SecretsError::WrongKey {
        store: Some(PathBuf::from("/d/s.sqlite")),
        key: Some("key file /d/k".into()),
        reason: Box::new(WrongKeyReason::UnfinishedRotation {
            pending: PathBuf::from("/d/k.new"),
        }),
    };
    check(
        &e,
        &["/d/s.sqlite", "key file /d/k", "/d/k.new", "key rotate"],
    );
}

#[test]
fn invalid_input_and_too_large_name_what_and_why() {
    let e = SecretsError::InvalidInput {
        what: "role \"a b\"".into(),
        reason: "no spaces".into(),
    };
    check(&e, &["invalid role \"a b\": no spaces"]);
    let e = SecretsError::TooLarge {
        what: "the value of shop/db".into(),
        size: 2_000_000,
        limit: 1_048_576,
    };
    check(
        &e,
        &[
            "the value of shop/db",
            "2000000 bytes",
            "limit of 1048576 bytes",
        ],
    );
}

#[test]
fn not_text_names_the_secret_version_and_kind() {
    let e = SecretsError::NotText {
        scope: "shop".into(),
        name: "db".into(),
        version: Some(3),
        found: "null",
    };
    check(&e, &["shop/db version 3", "null", "no text value"]);
}

#[test]
fn tampered_names_the_record() {
    for (record, parts) in [
        (
            TamperedRecord::CurrentVersion { version: 4 },
            ["shop/db", "recorded as 4", "outside zlayer-secrets"],
        ),
        (
            TamperedRecord::MissingValue { version: 5 },
            ["shop/db", "version 5", "outside zlayer-secrets"],
        ),
    ] {
        let e = SecretsError::Tampered {
            scope: "shop".into(),
            name: "db".into(),
            record,
        };
        check(&e, &parts);
        assert!(
            e.to_string().starts_with("the store was tampered with"),
            "{e}"
        );
    }
}

#[test]
fn version_limit_names_the_secret() {
    let e = SecretsError::VersionLimit {
        scope: "s".into(),
        name: "n".into(),
    };
    check(&e, &["s/n", "highest version number"]);
}

#[test]
fn storage_failures_keep_their_source_and_show_it_once() {
    let e = SecretsError::Database {
        operation: "reading a secret".into(),
        path: Some(PathBuf::from("/d/secrets.sqlite")),
        source: Box::new(io_error()),
    };
    check(
        &e,
        &[
            "/d/secrets.sqlite",
            "reading a secret",
            "denied by the test",
        ],
    );
    assert!(e.is_storage());
    let SecretsError::Database { source, .. } = &e else {
        unreachable!()
    };
    assert!(
        source.downcast_ref::<io::Error>().is_some(),
        "the cause is kept"
    );
    assert!(
        e.source().is_none(),
        "the cause's message is shown, not chained again"
    );

    let e = SecretsError::Database {
        operation: "opening".into(),
        path: None,
        source: Box::new(io_error()),
    };
    check(&e, &["database error while opening: denied by the test"]);

    let e = SecretsError::File {
        operation: "open key file".into(),
        path: PathBuf::from("/k/secrets_default.key"),
        source: io_error(),
    };
    check(
        &e,
        &["cannot open key file /k/secrets_default.key: denied by the test"],
    );
    assert!(e.is_storage());

    let e = SecretsError::Interrupted {
        task: "the database task".into(),
        source: Box::new(io_error()),
    };
    check(
        &e,
        &["the database task did not complete: denied by the test"],
    );
    assert!(e.is_storage());
}

#[test]
fn refused_files_name_the_path_and_the_problem() {
    let problems = [
        (
            FileProblem::Symlink {
                target: Some(PathBuf::from("/elsewhere")),
            },
            vec!["symbolic link (to /elsewhere)", "refusing"],
        ),
        (FileProblem::DanglingSymlink, vec!["does not exist"]),
        (FileProblem::BecameSymlink, vec!["became a symbolic link"]),
        (FileProblem::NotAFile, vec!["not a regular file"]),
        (FileProblem::NotADirectory, vec!["not a directory"]),
        (
            FileProblem::TooLarge { limit: 4096 },
            vec!["larger than 4096 bytes: not a key file"],
        ),
        (
            FileProblem::ForeignOwner {
                owner: 1234,
                user: 1000,
                mode: 0o600,
                is_dir: false,
            },
            vec!["owner uid 1234", "mode 0600", "uid 1000", "another file"],
        ),
        (
            FileProblem::Writable {
                owner: 1000,
                user: 1000,
                mode: 0o1777,
                is_dir: true,
            },
            vec![
                "mode 1777",
                "writable by group or others",
                "sticky",
                "another directory",
            ],
        ),
    ];
    for (problem, mut parts) in problems {
        let e = SecretsError::FileRefused {
            what: "key file".into(),
            path: PathBuf::from("/k/secrets_a.key"),
            problem,
        };
        parts.push("key file /k/secrets_a.key ");
        check(&e, &parts);
        assert!(e.is_storage());
    }
}

#[test]
fn store_problems_name_the_database() {
    let problems = [
        (StoreProblem::NotAStore, "not a secrets store"),
        (
            StoreProblem::SchemaTooNew {
                found: 9,
                supported: 3,
            },
            "schema version 9, newer than the 3",
        ),
        (
            StoreProblem::InvalidSchemaVersion { found: -1 },
            "invalid schema version -1",
        ),
        (StoreProblem::NoUpgrade { from: 2 }, "schema version 2"),
        (StoreProblem::UpgradeNeedsKey { to: 3 }, "version 3"),
        (
            StoreProblem::NoWal {
                mode: "delete".into(),
            },
            "`delete` mode",
        ),
        (
            StoreProblem::KeyRecordMissing { values: 0 },
            "lost its key record",
        ),
        (
            StoreProblem::KeyRecordMissing { values: 12 },
            "holds 12 encrypted values",
        ),
        (StoreProblem::GenerationLimit, "generation limit"),
    ];
    for (problem, part) in problems {
        let e = SecretsError::Store {
            path: Some(PathBuf::from("/d/secrets.sqlite")),
            problem,
        };
        check(&e, &["the secrets store /d/secrets.sqlite ", part]);
        assert!(e.is_storage());
    }
}

#[test]
fn data_directory_and_rotation_errors_say_what_to_do() {
    check(
        &SecretsError::NoDataDirectory {
            variable: "ZLAYER_SECRETS_DIR",
        },
        &["no platform data directory", "set ZLAYER_SECRETS_DIR"],
    );
    check(
        &SecretsError::KeyMissing {
            store: PathBuf::from("/d/secrets.sqlite"),
            key_file: PathBuf::from("/d/secrets_default.key"),
            variable: "ZLAYER_SECRETS_KEY",
        },
        &[
            "/d/secrets.sqlite",
            "/d/secrets_default.key",
            "ZLAYER_SECRETS_KEY",
        ],
    );
    check(
        &SecretsError::NothingToRotate {
            dir: PathBuf::from("/d"),
        },
        &["no store in /d yet: nothing to rotate"],
    );
    check(
        &SecretsError::KeyFromEnvironment {
            variable: "ZLAYER_SECRETS_KEY".into(),
        },
        &["ZLAYER_SECRETS_KEY is set", "change ZLAYER_SECRETS_KEY"],
    );
}

#[test]
fn reference_errors_name_the_reference_and_the_variable() {
    let error = SecretRef::try_parse(&format!("$S:{VALUE} x")).unwrap_err();
    let e = SecretsError::InvalidReference {
        variable: Some("DB".into()),
        error,
    };
    check(
        &e,
        &["environment variable `DB`: ", "malformed secret reference"],
    );

    let e = SecretsError::Unresolved {
        reference: "$S:db/password".into(),
        variable: Some("DB".into()),
        scope: Some("shop".into()),
        source: Box::new(SecretsError::FieldUnreadable {
            scope: "shop".into(),
            name: "db".into(),
            field: "password".into(),
            json_kind: Some("array"),
        }),
    };
    check(
        &e,
        &[
            "`$S:db/password` (environment variable `DB`) in scope `shop`: ",
            "field `password` of shop/db",
            "a JSON array, not an object",
        ],
    );
    let e = SecretsError::Unresolved {
        reference: "$S::prod/K".into(),
        variable: None,
        scope: None,
        source: Box::new(SecretsError::NoEnvResolver),
    };
    check(&e, &["`$S::prod/K`: ", "with_env_resolver"]);
    let reserved = SecretsError::Unresolved {
        reference: "$S:n".into(),
        variable: None,
        scope: None,
        source: Box::new(SecretsError::ReservedScope {
            scope: "_zlayer".into(),
        }),
    };
    check(&reserved, &["`_zlayer` is reserved"]);
    assert!(reserved.is_access_denied());
    assert!(!reserved.is_storage());

    let e = SecretsError::ScopeFailed {
        scope: "shop/api".into(),
        variables: vec!["DB".into(), "TOKEN".into()],
        source: Box::new(SecretsError::Storage("backend unavailable".into())),
    };
    check(
        &e,
        &[
            "scope `shop/api`",
            "variables DB, TOKEN",
            "backend unavailable",
        ],
    );
    assert!(e.is_storage());
}

#[test]
fn an_incomplete_batch_names_the_failure_and_what_was_not_taken_back() {
    let e = SecretsError::BatchIncomplete {
        failed_at: 3,
        total: 4,
        scope: "s".into(),
        name: "c".into(),
        source: Box::new(SecretsError::Provider("the server went away".into())),
        not_undone: vec![
            (
                "s/a".into(),
                SecretsError::Provider("changed meanwhile".into()),
            ),
            ("s/b".into(), SecretsError::Storage("unreachable".into())),
        ],
    };
    check(
        &e,
        &[
            "operation 3 of 4 (s/c)",
            "the server went away",
            "s/a (provider error: changed meanwhile), s/b (storage error: unreachable)",
        ],
    );
    assert!(
        !e.is_storage(),
        "an incomplete batch is its own condition, not its cause"
    );
}

#[test]
fn wrappers_show_the_cause_once_and_see_through() {
    let inner = SecretsError::Database {
        operation: "opening".into(),
        path: None,
        source: Box::new(io_error()),
    };
    let e = SecretsError::during(
        "read the key of the store",
        SecretsError::Unresolved {
            reference: "$S:x".into(),
            variable: None,
            scope: None,
            source: Box::new(inner),
        },
    );
    check(
        &e,
        &["cannot read the key of the store: `$S:x`: database error"],
    );
    assert_eq!(e.to_string().matches("denied by the test").count(), 1);
    assert!(matches!(e.root_cause(), SecretsError::Database { .. }));
    assert!(e.is_storage());
    assert!(!e.is_not_found());
    assert!(e.source().is_none());

    let missing = SecretsError::during("find it", SecretsError::NotFound { name: "s/n".into() });
    assert!(missing.is_not_found());
    assert!(SecretsError::Storage("x".into()).is_storage());
    assert!(!SecretsError::Provider("x".into()).is_storage());
}

#[test]
fn the_error_stays_small() {
    // Every `Result` of the workspace is at least this large; the helpers' errors embed it.
    assert!(
        std::mem::size_of::<SecretsError>() <= 96,
        "{} bytes",
        std::mem::size_of::<SecretsError>()
    );
}

#[test]
fn placeholder_errors_say_where_without_the_text() {
    let text = format!("user: {VALUE}\npassword: {{{{ $S:@/{VALUE} }}}}");
    let error = crate::Template::parse(&text).unwrap_err();
    check(
        &SecretsError::InvalidPlaceholder {
            variable: Some("CONFIG".into()),
            error,
        },
        &[
            "environment variable `CONFIG`: ",
            "placeholder at line 2, column ",
            "malformed secret reference",
        ],
    );
    check(
        &SecretsError::InvalidPlaceholder {
            variable: None,
            error,
        },
        &["placeholder at line 2, column "],
    );
}
