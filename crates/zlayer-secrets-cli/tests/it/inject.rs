//! `inject` and `read`: templates rendered byte for byte, nothing written on failure.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::Store;

/// A value with everything a template language might trip over.
const TRICKY: &str = "line one\nline \"two\" 'three' {{ $S:pw }} }} \\{{ é ✓ 🔒\r\n\ttab";

fn setup() -> Store {
    let s = Store::new();
    s.put("pw", "hunter2-pw", &[]);
    s.put("tricky", TRICKY, &[]);
    s.put("db", r#"{"user":"app","nested":{"port":5432}}"#, &[]);
    s.put("API_KEY", "sk-prod-123", &["--env", "prod"]);
    s
}

const TEMPLATE: &str = "# config ✓\n\
user: {{ $S:db/user }}\n\
password: \"{{$S:pw}}\"\n\
tricky: <{{ $S:tricky }}>\n\
api: {{\t$secret://prod/API_KEY\t}}\n\
literal: \\{{ $S:pw }}\n\
helm: {{ .Values.image }}\n\
unterminated: {{ $S:pw\n\
no newline at the end";

fn expected() -> String {
    format!(
        "# config ✓\n\
user: app\n\
password: \"hunter2-pw\"\n\
tricky: <{TRICKY}>\n\
api: sk-prod-123\n\
literal: {{{{ $S:pw }}}}\n\
helm: {{{{ .Values.image }}}}\n\
unterminated: {{{{ $S:pw\n\
no newline at the end"
    )
}

#[test]
fn a_template_renders_byte_for_byte_to_stdout_and_to_a_0600_file() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("app.tpl");
    fs::write(&template, TEMPLATE).unwrap();
    let template = template.to_str().unwrap();

    let r = s.run(&["inject", "-i", template]);
    assert_eq!(r.ok().out(), expected());

    let out = dir.path().join("app.conf");
    let r = s.run(&["inject", "-i", template, "-o", out.to_str().unwrap()]);
    assert_eq!(r.ok().out(), "");
    assert_eq!(fs::read_to_string(&out).unwrap(), expected());
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Standard input, and an existing output file replaced (and made private).
    fs::set_permissions(&out, fs::Permissions::from_mode(0o644)).unwrap();
    let r = s.run_with(
        &[
            "inject",
            "--in-file",
            "-",
            "--out-file",
            out.to_str().unwrap(),
        ],
        Some(b"only {{ $S:pw }}"),
        &[],
    );
    r.ok();
    assert_eq!(fs::read_to_string(&out).unwrap(), "only hunter2-pw");
    assert_eq!(
        fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let mut names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["app.conf", "app.tpl"], "no temporary file is left");
}

#[test]
fn a_failing_reference_writes_nothing() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.conf");
    let out = out.to_str().unwrap();
    for (template, message) in [
        ("a: {{ $S:pw }}\nb: {{ $S:missing }}\n", "`$S:missing`"),
        ("a: {{ $S:pw }}\nb: {{ $S:db/nope }}\n", "field `nope`"),
        ("a: {{ $S:pw }}\nb: {{ $S:@/x }}\n", "line 2, column"),
        ("a: {{ $S::nowhere/x }}\n", "`$S::nowhere/x`"),
    ] {
        let r = s.run_with(
            &["inject", "-i", "-", "-o", out],
            Some(template.as_bytes()),
            &[],
        );
        r.code(1).err_contains(message);
        assert!(!r.err().contains("hunter2-pw"), "{}", r.err());
        assert!(
            !std::path::Path::new(out).exists(),
            "{template:?} wrote {out}"
        );
        let r = s.run_with(&["inject", "-i", "-"], Some(template.as_bytes()), &[]);
        r.code(1);
        assert_eq!(r.out(), "", "nothing on stdout either");
    }
    // An existing file is left as it was.
    fs::write(out, "before").unwrap();
    s.run_with(
        &["inject", "-i", "-", "-o", out],
        Some(b"{{ $S:missing }}"),
        &[],
    )
    .code(1);
    assert_eq!(fs::read_to_string(out).unwrap(), "before");
}

#[test]
fn env_selects_the_scope_of_short_references() {
    let s = setup();
    let r = s.run_with(
        &["inject", "-i", "-", "--env", "prod"],
        Some(b"k={{ $S:API_KEY }}"),
        &[],
    );
    assert_eq!(r.ok().out(), "k=sk-prod-123");
}

#[test]
fn read_prints_one_value_or_field() {
    let s = setup();
    assert_eq!(s.run(&["read", "$S:pw"]).ok().out(), "hunter2-pw\n");
    assert_eq!(s.run(&["read", "$S:pw", "-n"]).ok().out(), "hunter2-pw");
    assert_eq!(
        s.run(&["read", "$S:tricky", "--no-newline"]).ok().out(),
        TRICKY
    );
    assert_eq!(s.run(&["read", "$S:db/user"]).ok().out(), "app\n");
    assert_eq!(
        s.run(&["read", "$secret://prod/API_KEY"]).ok().out(),
        "sk-prod-123\n"
    );
    assert_eq!(
        s.run(&["read", "$S:API_KEY", "--env", "prod"]).ok().out(),
        "sk-prod-123\n"
    );
}

#[test]
fn read_refuses_what_is_not_a_reference_without_repeating_it() {
    let s = setup();
    let r = s.run(&["read", "hunter2-pasted"]);
    r.code(1).err_contains("not a secret reference");
    assert!(!r.err().contains("hunter2-pasted"), "{}", r.err());
    s.run(&["read", "$S:@/x"]).code(1).err_contains("malformed");
    s.run(&["read", "$S:missing"])
        .code(1)
        .err_contains("secret not found");
}
