//! Dotenv files as the common readers read them: what `export --format env` writes is read
//! back byte for byte by python-dotenv (with and without interpolation), dotenvy and
//! `import`; and files written for python-dotenv import with python-dotenv's values.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Store;
use crate::python;

/// Values that break naive dotenv writers, each of which some form carries for every
/// reader.
const CARRIED: &[&str] = &[
    "",
    "plain",
    "with space",
    "  leading and trailing  ",
    "it's",
    "say \"hi\"",
    "both ' and \"",
    "'",
    "\"",
    "#hash",
    "a #not-a-comment",
    "a # also not",
    "$",
    "$HOME",
    "cost: $5 $$",
    "${",
    "${ZLAYER_TEST_MARKER:x}",
    "}${",
    "$ZLAYER_TEST_MARKER",
    "back\\slash",
    "C:\\Users\\me",
    "\\\\server\\share",
    "\\n is not a newline",
    "\\$HOME",
    "\\${",
    "\\'",
    "\\\"",
    "line1\nline2",
    "ends with a newline\n",
    "\n",
    "tab\there",
    "\t",
    "$ and a\nnewline and a\ttab",
    "unicode é 中文 🦀",
    "\u{feff}a byte-order mark inside",
    "\u{a0}no-break spaces\u{a0}",
    "\u{2028}line separator",
    "control \u{1} \u{1b}[0m \u{7f}",
    "export X=1",
    "=equals=",
    "`backticks` and $(commands)",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n",
];

/// A store holding `values` under the names `V00`, `V01`, ... (imported as JSON, whose
/// writer and reader are independent of the dotenv ones).
fn store_with(values: &BTreeMap<String, String>) -> Store {
    let s = Store::new();
    let json = serde_json::to_vec(values).unwrap();
    s.run_with(&["import", "-", "--format", "json"], Some(&json), &[])
        .ok();
    s
}

fn numbered(values: &[&str]) -> BTreeMap<String, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("V{i:02}"), (*v).to_owned()))
        .collect()
}

/// What `import` reads from `file`: imported into a fresh store, exported as JSON.
fn imported(file: &Path) -> BTreeMap<String, String> {
    let s = Store::new();
    s.run(&["import", file.to_str().unwrap(), "--format", "env"])
        .ok();
    serde_json::from_slice(&s.run(&["export", "--format", "json"]).ok().stdout).unwrap()
}

/// What python-dotenv reads, keys without a value left out.
fn python_reads(file: &Path, interpolate: bool) -> BTreeMap<String, String> {
    let (pairs, stderr) = python::dotenv_values(file, interpolate);
    assert!(stderr.is_empty(), "python-dotenv warned: {stderr}");
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

fn assert_same(reader: &str, got: &BTreeMap<String, String>, want: &BTreeMap<String, String>) {
    for (key, value) in want {
        assert_eq!(
            got.get(key),
            Some(value),
            "{reader} reads {key} differently (the value is {value:?})"
        );
    }
    assert_eq!(got.len(), want.len(), "{reader}: {got:?}");
}

#[test]
fn export_is_read_back_identically_by_python_dotenv_dotenvy_and_import() {
    assert_eq!(
        python::dotenv_version(),
        "1.2.2",
        "the python-dotenv release tested"
    );
    let values = numbered(CARRIED);
    assert!(values.len() >= 30);
    let s = store_with(&values);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exported.env");
    s.run(&["export", "--format", "env", "--to", file.to_str().unwrap()])
        .ok();

    assert_same(
        "python-dotenv (interpolate=True)",
        &python_reads(&file, true),
        &values,
    );
    assert_same(
        "python-dotenv (interpolate=False)",
        &python_reads(&file, false),
        &values,
    );
    let dotenvy: BTreeMap<String, String> = dotenvy::from_path_iter(&file)
        .unwrap()
        .collect::<Result<_, _>>()
        .expect("dotenvy reads the export");
    assert_same("dotenvy", &dotenvy, &values);
    assert_same("zlayer-secret import", &imported(&file), &values);
}

/// What no quoting carries for every reader is refused, naming each secret and why, and
/// nothing is written: a value with `${...}` (python-dotenv expands it inside any
/// quotes), a carriage return, a final backslash, `$` with `'` or `\\`; and a name that
/// would need quotes.
#[test]
fn what_no_form_carries_is_refused_by_name() {
    let s = Store::new();
    let refused = [
        ("ENV_REF", "${ZLAYER_TEST_MARKER}", "`${...}`"),
        ("EMPTY_REF", "${}", "`${...}`"),
        ("DEFAULT_REF", "a ${X:-fallback} b", "`${...}`"),
        ("SPLIT_REF", "${X\n}", "`${...}`"),
        ("CR", "windows\r\nline", "carriage return"),
        ("TRAILING", "C:\\dir\\", "ends with a backslash"),
        ("DOLLAR_QUOTE", "it's $5", "together with"),
        ("DOLLAR_BACKSLASHES", "\\\\host\\c$", "together with"),
        ("with space", "fine", "the name needs quotes"),
        ("q\"=#", "fine", "the name needs quotes"),
    ];
    let mut values: BTreeMap<String, String> = refused
        .iter()
        .map(|(k, v, _)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    values.insert("FINE".to_owned(), "hunter2-fine".to_owned());
    let json = serde_json::to_vec(&values).unwrap();
    s.run_with(&["import", "-", "--format", "json"], Some(&json), &[])
        .ok();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("never.env");
    let r = s.run(&["export", "--format", "env", "--to", file.to_str().unwrap()]);
    r.code(1);
    let err = r.err();
    assert!(err.contains("--format json"), "{err}");
    assert!(
        err.contains(&format!("cannot export {} secrets", refused.len())),
        "{err}"
    );
    for (key, _, why) in refused {
        let line = err
            .lines()
            .find(|l| l.contains(&format!("default/{key}:")))
            .unwrap_or_else(|| panic!("{key} is not named: {err}"));
        assert!(line.contains(why), "{key}: {line}");
    }
    for (_, value, _) in refused {
        if value.len() > 4 {
            assert!(!err.contains(value), "a value is shown: {err}");
        }
    }
    assert!(!err.contains("hunter2"), "{err}");
    assert!(!file.exists(), "nothing is written");
    assert_eq!(s.run(&["export", "--format", "env"]).code(1).out(), "");
}

/// A file written for python-dotenv: (file text, what it holds), compared with what
/// python-dotenv reads from the same file.
const COMMON_FILES: &[(&str, &str)] = &[
    ("regex", "REGEX=\"^\\d+$\"\n"),
    ("windows path", "WINPATH=\"C:\\Users\\me\"\n"),
    ("escaped single quote", "S='it\\'s'\n"),
    (
        "python escapes",
        "E=\"a\\tb\\nc\\\\d\\\"e\\'f\\ag\\bh\\fi\\vj\\qk\"\n",
    ),
    ("single-quote escapes", "S='a\\\\b\\nc\\qd'\n"),
    ("unquoted backslashes", "U=a\\nb\\\\c\n"),
    ("value starting with a hash", "COLOR=#ff0000\nC2= #00ff00\n"),
    (
        "comments",
        "# top\nA=1 # one\nB='2' # two\nC=\"3\"# three\n  # indented\n",
    ),
    ("export", "export A=1\nexport  B = 2\nexport=3\n"),
    ("blanks", "  A  =  spaced out  \nB=\t\ttabs\t\n"),
    ("no-break space", "A=\u{a0}x\u{a0}\n"),
    ("single-quoted key", "'KEY'=v\n"),
    ("empty values", "A=\nB=''\nC=\"\"\nD= # c\n"),
    ("multi-line", "A=\"one\ntwo\"\nB='x\ny'\nC=3\n"),
    (
        "CRLF",
        "A=1\r\nB=\"multi\r\nline\"\r\nC='x\r\ny'\r\nD=plain\r\n",
    ),
    ("no final newline", "A=1\nB=\"two\""),
    ("dollars", "A=$HOME\nB='${HOME}'\nC=\"${X}\"\n"),
];

#[test]
fn common_files_import_as_python_dotenv_reads_them() {
    assert_eq!(
        python::dotenv_version(),
        "1.2.2",
        "the python-dotenv release tested"
    );
    let dir = tempfile::tempdir().unwrap();
    for (i, (what, text)) in COMMON_FILES.iter().enumerate() {
        let file = dir.path().join(format!("common-{i}.env"));
        std::fs::write(&file, text).unwrap();
        let want = python_reads(&file, false);
        assert!(!want.is_empty(), "{what}");
        assert_same(what, &imported(&file), &want);
    }
}

/// `export K` (and a bare `K`) sets nothing: python-dotenv gives it no value; import skips
/// it with a warning. A ` #` in an unquoted value starts a comment, as python-dotenv reads
/// it, with a warning that names the key, never the value.
#[test]
fn lines_that_set_nothing_or_lose_a_comment_warn() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("warns.env");
    std::fs::write(&file, "export K\nB=p@ss #word\nC=fine\nstray-secret-word\n").unwrap();
    let (pairs, _) = python::dotenv_values(&file, false);
    assert_eq!(
        pairs,
        [
            ("K".to_owned(), None),
            ("B".to_owned(), Some("p@ss".to_owned())),
            ("C".to_owned(), Some("fine".to_owned())),
            ("stray-secret-word".to_owned(), None),
        ]
    );
    let s = Store::new();
    let r = s.run(&["import", file.to_str().unwrap()]);
    let err = r.ok().err();
    assert!(r.out().contains("2 created"), "{}", r.out());
    assert!(err.contains("line 1: `export K` has no `=`"), "{err}");
    assert!(
        err.contains("line 2: the unquoted value of `B` ends before ` #`"),
        "{err}"
    );
    assert!(
        err.contains("line 4: a line with a name but no `=`"),
        "{err}"
    );
    assert!(
        !err.contains("p@ss") && !err.contains("word") && !err.contains("stray"),
        "{err}"
    );
    assert_eq!(s.reveal("B", &[]), "p@ss");
    s.run(&["get", "K"]).code(1);
}

/// A file with old Mac line endings (CR only) is refused, naming the line: stored as it
/// reads without CRs as line ends, it would be one mangled value.
#[test]
fn a_file_with_bare_carriage_returns_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mac.env");
    std::fs::write(&file, "A=1\rB=secret-two\rC=\"x\ry\"\r").unwrap();
    let s = Store::new();
    let r = s.run(&["import", file.to_str().unwrap()]);
    r.code(1);
    assert!(
        r.err()
            .contains("line 1: a carriage return that ends no line"),
        "{}",
        r.err()
    );
    r.err_lacks("secret-two");
    assert_eq!(
        s.run(&["ls"]).ok().out().lines().count(),
        0,
        "nothing stored"
    );
    // A stray CR in an LF file names its line.
    std::fs::write(&file, "A=1\nB=\"x\ry\"\nC=3\n").unwrap();
    let r = s.run(&["import", file.to_str().unwrap()]);
    r.code(1).err_contains("line 2: a carriage return");
}

/// Every bad line is reported, with its key where there is one, never its content.
#[test]
fn every_bad_line_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.env");
    std::fs::write(
        &file,
        "OK=1\nA=\"x\" trailing-secret\nnot an entry-secret\nB='never closed-secret\nC=2\n=nokey-secret\nbad/name=3\nC=4\n",
    )
    .unwrap();
    let s = Store::new();
    let r = s.run(&["import", file.to_str().unwrap()]);
    r.code(1);
    let err = r.err();
    for want in [
        "4 problems",
        "line 2: `A`: unexpected text after the value's closing quote",
        "line 3: `not`: expected `=` after the key",
        "line 4: a single-quoted string is never closed",
        "line 6: expected `KEY=VALUE`",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(!err.contains("secret"), "{err}");
    // Once the file parses, every bad name and repeated name is reported.
    std::fs::write(&file, "OK=1\nbad/name=2\nOK=3\nalso/bad=4\n").unwrap();
    let err = s.run(&["import", file.to_str().unwrap()]).code(1).err();
    for want in [
        "3 problems",
        "line 2:",
        "line 3: \"OK\" is defined again (first at line 1)",
        "line 4:",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert_eq!(
        s.run(&["ls"]).ok().out().lines().count(),
        0,
        "nothing stored"
    );
}

/// JSON written by editors that start files with a byte-order mark imports, detected as
/// JSON.
#[test]
fn a_json_file_with_a_byte_order_mark_imports() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bom.json");
    std::fs::write(&file, "\u{feff}{\"A\": \"from json\", \"B\": \"x\\ny\"}\n").unwrap();
    let s = Store::new();
    s.run(&["import", file.to_str().unwrap()]).ok();
    assert_eq!(s.reveal("A", &[]), "from json");
    assert_eq!(s.reveal("B", &[]), "x\ny");
}
