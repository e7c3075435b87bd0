//! `git-credential`: driven by the real `git credential approve|fill|reject`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Run, Store, bin, contains};

/// `git` isolated from the user's and the system's configuration, with one credential
/// helper: this store, or git's own `credential-store` to compare with.
pub(crate) struct Git {
    helper: String,
    home: tempfile::TempDir,
}

impl Git {
    pub(crate) fn new(store: &Store) -> Self {
        Self::with_helper(format!(
            "!'{}' --data-dir '{}' git-credential",
            bin(),
            store.path().display()
        ))
    }

    /// git with `credential.helper=store --file=...`, a file of its own.
    pub(crate) fn reference() -> Self {
        let mut git = Self::with_helper(String::new());
        git.helper = format!(
            "store --file='{}'",
            git.home.path().join("credentials").display()
        );
        git
    }

    fn with_helper(helper: String) -> Self {
        let home = tempfile::tempdir().unwrap();
        std::fs::write(home.path().join("gitconfig"), "").unwrap();
        Self { helper, home }
    }

    fn global_config(&self) -> PathBuf {
        self.home.path().join("gitconfig")
    }

    /// `git credential OP` with `request` on stdin; `extra` are more `-c` settings.
    pub(crate) fn credential(&self, op: &str, request: &str, extra: &[&str]) -> Run {
        let mut cmd = Command::new("git");
        // An empty value first clears any helper configured elsewhere.
        cmd.args(["-c", "credential.helper=", "-c"])
            .arg(format!("credential.helper={}", self.helper));
        for setting in extra {
            cmd.args(["-c", setting]);
        }
        cmd.args(["credential", op])
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.global_config())
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .env("SSH_ASKPASS", "")
            .env_remove("ZLAYER_SECRETS_DIR")
            .env_remove("ZLAYER_SECRETS_KEY")
            .env_remove("ZLAYER_SECRETS_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("git is installed");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(request.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap().into()
    }

    pub(crate) fn approve(&self, request: &str, extra: &[&str]) {
        self.credential("approve", request, extra).ok();
    }

    /// What `fill` returns, or `None` when no helper had a credential (git then fails,
    /// as it may not prompt).
    pub(crate) fn fill(&self, request: &str, extra: &[&str]) -> Option<String> {
        let r = self.credential("fill", request, extra);
        if r.code == Some(0) {
            return Some(r.out());
        }
        assert!(
            r.err().contains("terminal prompts disabled") || r.err().contains("could not read"),
            "unexpected failure of git credential fill: {}",
            r.err()
        );
        None
    }
}

/// The `password=` line of a `fill` answer.
pub(crate) fn password(answer: &str) -> Option<&str> {
    answer.lines().find_map(|l| l.strip_prefix("password="))
}

pub(crate) fn username(answer: &str) -> Option<&str> {
    answer.lines().find_map(|l| l.strip_prefix("username="))
}

#[test]
fn approve_fill_reject_through_git() {
    let s = Store::new();
    let git = Git::new(&s);
    git.approve(
        "protocol=https\nhost=git.example.com\nusername=alice\npassword=ghp_first-token\n\n",
        &[],
    );
    git.approve(
        "url=https://bob@other.example.org\npassword=glpat-second=token\n\n",
        &[],
    );

    let a = git
        .fill("protocol=https\nhost=git.example.com\n\n", &[])
        .expect("a credential for git.example.com");
    assert_eq!(username(&a), Some("alice"));
    assert_eq!(password(&a), Some("ghp_first-token"));
    let b = git
        .fill("url=https://other.example.org/org/repo.git\n\n", &[])
        .expect("a credential for other.example.org");
    assert_eq!(username(&b), Some("bob"));
    assert_eq!(password(&b), Some("glpat-second=token"));

    // Host case and the default port do not matter; the protocol, another port or
    // another user name do.
    let a2 = git
        .fill("protocol=https\nhost=GIT.example.com:443\n\n", &[])
        .unwrap();
    assert_eq!(password(&a2), Some("ghp_first-token"));
    assert_eq!(
        git.fill("protocol=http\nhost=git.example.com\n\n", &[]),
        None
    );
    assert_eq!(
        git.fill("protocol=https\nhost=git.example.com:8443\n\n", &[]),
        None
    );
    assert_eq!(
        git.fill(
            "protocol=https\nhost=git.example.com\nusername=mallory\n\n",
            &[]
        ),
        None
    );
    assert_eq!(git.fill("protocol=https\nhost=example.com\n\n", &[]), None);

    // Rejecting one leaves the other.
    git.credential(
        "reject",
        "protocol=https\nhost=git.example.com\nusername=alice\npassword=ghp_first-token\n\n",
        &[],
    )
    .ok();
    assert_eq!(
        git.fill("protocol=https\nhost=git.example.com\n\n", &[]),
        None
    );
    let b = git
        .fill("protocol=https\nhost=other.example.org\n\n", &[])
        .unwrap();
    assert_eq!(password(&b), Some("glpat-second=token"));
}

#[test]
fn a_new_password_replaces_the_old_one() {
    let s = Store::new();
    let git = Git::new(&s);
    for token in ["token-one", "token-two"] {
        git.approve(
            &format!("protocol=https\nhost=h.example\nusername=u\npassword={token}\n"),
            &[],
        );
    }
    let got = git.fill("protocol=https\nhost=h.example\n", &[]).unwrap();
    assert_eq!(password(&got), Some("token-two"));
    // Only one credential is left: erasing it leaves nothing.
    git.credential(
        "reject",
        "protocol=https\nhost=h.example\nusername=u\n",
        &[],
    )
    .ok();
    assert_eq!(git.fill("protocol=https\nhost=h.example\n", &[]), None);
}

#[test]
fn paths_count_only_with_use_http_path() {
    let s = Store::new();
    let git = Git::new(&s);
    let per_path = ["credential.useHttpPath=true"];
    git.approve(
        "url=https://u@git.example.com/org/a%20b.git\npassword=pw-for-a\n",
        &per_path,
    );
    git.approve(
        "url=https://u@git.example.com/org/c.git\npassword=pw-for-c\n",
        &per_path,
    );
    let a = git
        .fill("url=https://git.example.com/org/a%20b.git\n", &per_path)
        .unwrap();
    assert_eq!(password(&a), Some("pw-for-a"));
    let c = git
        .fill("url=https://git.example.com/org/c.git\n", &per_path)
        .unwrap();
    assert_eq!(password(&c), Some("pw-for-c"));
    assert_eq!(
        git.fill("url=https://git.example.com/org/other.git\n", &per_path),
        None
    );
    // Without useHttpPath git sends no path, and a credential of the host is found.
    assert!(
        git.fill("url=https://git.example.com/org/other.git\n", &[])
            .is_some()
    );
}

#[test]
fn the_protocol_directly() {
    let s = Store::new();
    let helper =
        |op: &str, input: &str| s.run_with(&["git-credential", op], Some(input.as_bytes()), &[]);
    // Nothing stored, no store: no answer, success, nothing created.
    let r = helper("get", "protocol=https\nhost=h.example\n\n");
    assert_eq!(r.ok().out(), "");
    assert!(s.files().is_empty(), "{:?}", s.files());

    helper(
        "store",
        "capability[]=authtype\nprotocol=https\nhost=h.example\nusername=u\npassword=p=w\npassword_expiry_utc=4102444800\nwwwauth[]=Basic realm=\"x\"\n\n",
    )
    .ok();
    assert_eq!(
        helper("get", "protocol=https\nhost=h.example\nwwwauth[]=Basic\n\n")
            .ok()
            .out(),
        "username=u\npassword=p=w\n"
    );
    // Incomplete stores are ignored; unknown operations too.
    helper("store", "protocol=https\nhost=h2.example\npassword=x\n").ok();
    assert_eq!(
        helper("get", "protocol=https\nhost=h2.example\n")
            .ok()
            .out(),
        ""
    );
    helper("frobnicate", "protocol=https\nhost=h.example\n").ok();
    // An erase naming another password erases nothing.
    helper("erase", "protocol=https\nhost=h.example\npassword=wrong\n").ok();
    assert_ne!(
        helper("get", "protocol=https\nhost=h.example\n").ok().out(),
        ""
    );
    // An empty erase erases nothing.
    helper("erase", "\n").ok();
    assert_ne!(
        helper("get", "protocol=https\nhost=h.example\n").ok().out(),
        ""
    );

    // Bad requests fail clearly, without quoting values.
    let r = helper(
        "store",
        "protocol=https\nhost=h.example\nusername=u\npassword=sec\0ret\n",
    );
    r.code(1).err_contains("NUL").err_lacks("sec");
    let r = helper("get", "protocol=https\nnot-a-pair\n");
    r.code(1).err_contains("line 2");
}

#[test]
fn git_passwords_are_stored_encrypted() {
    let s = Store::new();
    let git = Git::new(&s);
    let token = "ghp_PlainTextMustNotAppear0123456789";
    git.approve(
        &format!("protocol=https\nhost=git.example.com\nusername=alice\npassword={token}\n"),
        &[],
    );
    assert!(
        git.fill("protocol=https\nhost=git.example.com\n", &[])
            .is_some()
    );
    let files: Vec<PathBuf> = s.files();
    assert!(
        files.iter().any(|f| f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("secrets.sqlite")),
        "{files:?}"
    );
    for file in &files {
        assert_not_in_file(file, token.as_bytes());
    }
}

fn assert_not_in_file(file: &Path, needle: &[u8]) {
    let bytes = std::fs::read(file).unwrap();
    assert!(
        !contains(&bytes, needle),
        "{} holds the value in clear",
        file.display()
    );
}

/// git percent-decodes the host of a URL: `https://github.com%2f.evil.example/x` reaches the
/// helper as `host=github.com/.evil.example`. Such hosts are refused: they never get
/// github.com's token, and storing for them never replaces it.
#[test]
fn hosts_that_git_decoded_into_url_syntax_are_refused() {
    let s = Store::new();
    let git = Git::new(&s);
    git.approve(
        "protocol=https\nhost=github.com\nusername=alice\npassword=ghp_real-token\n",
        &[],
    );
    for encoded in ["%2f", "%3f", "%23", "%40", "%5c", "%20", "%09"] {
        let url = format!("https://github.com{encoded}.evil.example/org/repo.git");
        let r = git.credential("fill", &format!("url={url}\n"), &[]);
        assert!(!r.out().contains("ghp_real-token"), "{url}: {}", r.out());
        assert_ne!(r.code, Some(0), "{url}: {}", r.out());
        // An approve for that URL (git only asks after the server accepted it) replaces
        // nothing.
        git.credential(
            "approve",
            &format!("url={url}\nusername=alice\npassword=ghp_evil-token\n"),
            &[],
        );
        let real = git
            .fill("protocol=https\nhost=github.com\n", &[])
            .expect("github.com's credential is still there");
        assert_eq!(password(&real), Some("ghp_real-token"), "{url}");
    }
    // The helper, asked directly, says what is wrong with the host and changes nothing.
    for host in [
        "github.com/.evil.example",
        "github.com?x",
        "github.com#x",
        "evil@github.com",
        "github.com\\x",
        "github.com x",
        "github.com\tx",
        "github.com:x",
    ] {
        let helper = |op: &str, extra: &str| {
            s.run_with(
                &["git-credential", op],
                Some(format!("protocol=https\nhost={host}\n{extra}").as_bytes()),
                &[],
            )
        };
        for (op, extra) in [
            ("get", ""),
            ("store", "username=alice\npassword=ghp_evil-token\n"),
            ("erase", ""),
        ] {
            let r = helper(op, extra);
            r.code(1);
            assert_eq!(r.out(), "", "{op} {host:?}");
            assert!(r.err().contains("host"), "{op} {host:?}: {}", r.err());
            r.err_lacks("ghp_");
        }
    }
    let real = git.fill("protocol=https\nhost=github.com\n", &[]).unwrap();
    assert_eq!(password(&real), Some("ghp_real-token"));
}

/// A port is compared as a number of the protocol, not through a URL made from the
/// fields: `http` on port 443 is not `https`, and neither is the default port of the other.
#[test]
fn protocol_host_and_port_are_compared_as_fields() {
    let s = Store::new();
    let git = Git::new(&s);
    git.approve(
        "protocol=http\nhost=h.example:443\nusername=u\npassword=http-on-443\n",
        &[],
    );
    git.approve(
        "protocol=https\nhost=h.example\nusername=u\npassword=https-default\n",
        &[],
    );
    let got = git
        .fill("protocol=http\nhost=h.example:443\n", &[])
        .unwrap();
    assert_eq!(password(&got), Some("http-on-443"));
    let got = git
        .fill("protocol=https\nhost=H.example:443\n", &[])
        .unwrap();
    assert_eq!(password(&got), Some("https-default"));
    assert_eq!(git.fill("protocol=http\nhost=h.example\n", &[]), None);
}

/// The request (a refresh token git sends that this helper ignores) leaves no copy in the
/// helper's memory once it is parsed: it is read unbuffered into a buffer wiped after use,
/// not through std's process-wide stdin buffer. The helper is paused while it writes an
/// answer larger than the pipe holds, and its writable memory searched.
#[cfg(target_os = "linux")]
#[test]
fn the_request_leaves_no_copy_in_the_helpers_memory() {
    use std::io::Read as _;

    let s = Store::new();
    let token = "t".repeat(256 * 1024);
    s.run_with(
        &["git-credential", "store"],
        Some(format!("protocol=https\nhost=h.example\nusername=u\npassword={token}\n").as_bytes()),
        &[],
    )
    .ok();
    let marker = "gho_refresh-MARKER-5f1d0c9a7b3e";
    let mut helper = s
        .command(&["git-credential", "get"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    helper
        .stdin
        .take()
        .unwrap()
        .write_all(
            format!("protocol=https\nhost=h.example\noauth_refresh_token={marker}\n\n").as_bytes(),
        )
        .unwrap();
    let pid = helper.id();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_to_string(format!("/proc/{pid}/wchan"))
        .unwrap_or_default()
        .contains("pipe_write")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the helper never blocked writing its answer"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let found = memory_contains(pid, marker.as_bytes());
    let mut answer = String::new();
    helper
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut answer)
        .unwrap();
    assert!(helper.wait().unwrap().success());
    assert_eq!(password(&answer), Some(token.as_str()));
    assert!(!found, "the request is still in the helper's memory");
}

/// Whether the writable memory of process `pid` holds `needle`.
#[cfg(target_os = "linux")]
fn memory_contains(pid: u32, needle: &[u8]) -> bool {
    use std::io::{Read as _, Seek as _, SeekFrom};

    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with("rw") {
            continue;
        }
        let (start, end) = range.split_once('-').unwrap();
        let start = u64::from_str_radix(start, 16).unwrap();
        let end = u64::from_str_radix(end, 16).unwrap();
        let mut region = vec![0u8; usize::try_from(end - start).unwrap()];
        if mem.seek(SeekFrom::Start(start)).is_err() || mem.read_exact(&mut region).is_err() {
            continue;
        }
        if contains(&region, needle) {
            return true;
        }
    }
    false
}

/// The request is read whole however git writes it, and its size is bounded.
#[test]
fn requests_are_read_in_pieces_and_bounded() {
    let s = Store::new();
    s.run_with(
        &["git-credential", "store"],
        Some(b"protocol=https\nhost=h.example\nusername=u\npassword=pw-one\n"),
        &[],
    )
    .ok();
    // Longer than one read, arriving in small writes.
    let padding = "wwwauth[]=Basic realm=\"x\"\n".repeat(1000);
    let request = format!("{padding}protocol=https\nhost=h.example\n\n");
    let mut helper = s
        .command(&["git-credential", "get"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = helper.stdin.take().unwrap();
    for piece in request.as_bytes().chunks(997) {
        stdin.write_all(piece).unwrap();
        stdin.flush().unwrap();
    }
    drop(stdin);
    let r: Run = helper.wait_with_output().unwrap().into();
    assert_eq!(r.ok().out(), "username=u\npassword=pw-one\n");

    let huge = format!(
        "protocol=https\nhost=h.example\n{}",
        "x".repeat(1024 * 1024)
    );
    let r = s.run_with(&["git-credential", "get"], Some(huge.as_bytes()), &[]);
    r.code(1);
    assert!(
        r.err()
            .contains("the request on standard input holds more than 1048576 bytes"),
        "{}",
        r.err()
    );
    assert_eq!(r.out(), "");
}

/// `git ls` shows what the helper stored without its secret; `git rm ID` removes it, and
/// git then gets nothing for the host.
#[test]
fn git_ls_and_rm_manage_what_the_helper_stored() {
    let s = crate::Store::new();
    s.run_with(
        &["git-credential", "store"],
        Some(b"protocol=https\nhost=example.com\nusername=ci\npassword=tok-shown-never\n\n"),
        &[],
    )
    .ok();
    let r = s.run(&["git", "ls", "--output", "json"]);
    let out = r.ok().out();
    assert!(!out.contains("tok-shown-never"), "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let creds = doc["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 1, "{out}");
    assert_eq!(creds[0]["username"], "ci");
    let id = creds[0]["id"].as_str().unwrap().to_owned();
    let r = s.run(&["git", "rm", &id]);
    r.ok().err_contains("removed the Git credential");
    let r = s.run_with(
        &["git-credential", "get"],
        Some(b"protocol=https\nhost=example.com\n\n"),
        &[],
    );
    assert!(!r.ok().out().contains("tok-shown-never"), "{}", r.out());
    s.run(&["git", "rm", &id])
        .code(1)
        .err_contains("no Git credential has the id");
}
