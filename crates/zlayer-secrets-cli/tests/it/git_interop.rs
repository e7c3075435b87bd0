//! `git-credential` next to git's own `credential-store`: the same `approve`, `reject` and
//! `fill` through real git with each helper, and what git returns compared.

use crate::Store;
use crate::git_credential::{Git, password, username};

/// One step of a sequence run through both helpers.
#[derive(Clone, Copy)]
enum Step<'a> {
    Approve(&'a str),
    Reject(&'a str),
    /// What git returns is compared; the answer is kept.
    Fill(&'a str),
}

/// git with this store's helper and git with `credential-store`, side by side.
struct Both {
    _store: Store,
    ours: Git,
    reference: Git,
}

impl Both {
    fn new() -> Self {
        let store = Store::new();
        Self {
            ours: Git::new(&store),
            reference: Git::reference(),
            _store: store,
        }
    }

    /// Runs `steps` through both and asserts that every `fill` gives the same answer;
    /// returns the answers in order (`None`: no helper had a credential).
    #[track_caller]
    fn run(&self, steps: &[Step<'_>]) -> Vec<Option<String>> {
        let mut answers = Vec::new();
        for (i, step) in steps.iter().enumerate() {
            match *step {
                Step::Approve(request) => {
                    self.ours.approve(request, &[]);
                    self.reference.approve(request, &[]);
                }
                Step::Reject(request) => {
                    self.ours.credential("reject", request, &[]).ok();
                    self.reference.credential("reject", request, &[]).ok();
                }
                Step::Fill(request) => {
                    let ours = self.ours.fill(request, &[]);
                    let reference = self.reference.fill(request, &[]);
                    assert_eq!(
                        ours, reference,
                        "step {i}: fill {request:?}: this helper (left) and credential-store (right) differ"
                    );
                    answers.push(ours);
                }
            }
        }
        answers
    }
}

/// A token given as the user name with an empty password (as some servers take it) is
/// stored and given back, password line and all, so git does not prompt.
#[test]
fn an_empty_password_is_stored_and_returned_like_credential_store() {
    use Step::{Approve, Fill, Reject};
    let both = Both::new();
    let answers = both.run(&[
        Approve("protocol=https\nhost=git.example.com\nusername=glpat-token-as-user\npassword=\n"),
        Fill("protocol=https\nhost=git.example.com\n"),
        Fill("protocol=https\nhost=git.example.com\nusername=glpat-token-as-user\n"),
        Reject("protocol=https\nhost=git.example.com\nusername=glpat-token-as-user\n"),
        Fill("protocol=https\nhost=git.example.com\n"),
    ]);
    let got = answers[0].as_deref().expect("a credential");
    assert_eq!(username(got), Some("glpat-token-as-user"));
    assert_eq!(password(got), Some(""));
    assert_eq!(answers[2], None);
}

/// git asks helpers about other protocols too: `git send-email` about `smtp`, other
/// programs about `imap` or `ftp`. Each is kept for its own protocol, host and port.
#[test]
fn other_protocols_are_kept_like_credential_store() {
    use Step::{Approve, Fill, Reject};
    let both = Both::new();
    let answers = both.run(&[
        Approve(
            "protocol=smtp\nhost=smtp.example.com:587\nusername=me@example.com\npassword=smtp-pw\n",
        ),
        Approve("protocol=imap\nhost=mail.example.com\nusername=me\npassword=imap-pw\n"),
        Approve("url=ftp://files@files.example.com/pub\npassword=ftp-pw\n"),
        Fill("protocol=smtp\nhost=smtp.example.com:587\n"),
        Fill("protocol=imap\nhost=mail.example.com\nusername=me\n"),
        // Not http(s): git sends the path, and it is compared.
        Fill("url=ftp://files.example.com/pub\n"),
        Fill("url=ftp://files.example.com/other\n"),
        // Another protocol, another port or another host is another place.
        Fill("protocol=https\nhost=smtp.example.com:587\n"),
        Fill("protocol=smtp\nhost=smtp.example.com:465\n"),
        Fill("protocol=imaps\nhost=mail.example.com\n"),
        Fill("protocol=smtp\nhost=mail.example.com\n"),
        Reject("protocol=smtp\nhost=smtp.example.com:587\nusername=me@example.com\n"),
        Fill("protocol=smtp\nhost=smtp.example.com:587\n"),
        Fill("protocol=imap\nhost=mail.example.com\n"),
    ]);
    assert_eq!(password(answers[0].as_deref().unwrap()), Some("smtp-pw"));
    assert_eq!(password(answers[1].as_deref().unwrap()), Some("imap-pw"));
    assert_eq!(password(answers[2].as_deref().unwrap()), Some("ftp-pw"));
    assert!(answers[3..8].iter().all(Option::is_none));
    assert_eq!(answers[8], None);
    assert_eq!(password(answers[9].as_deref().unwrap()), Some("imap-pw"));
}

/// Several users on one host, no user name asked: the one stored last is given. A store
/// of an unchanged credential (git approves after every successful use) makes it the
/// last again.
#[test]
fn the_user_stored_last_comes_first_like_credential_store() {
    use Step::{Approve, Fill, Reject};
    let both = Both::new();
    let fill = Fill("protocol=https\nhost=h.example\n");
    let answers = both.run(&[
        Approve("protocol=https\nhost=h.example\nusername=zed\npassword=zed-pw\n"),
        Approve("protocol=https\nhost=h.example\nusername=amy\npassword=amy-pw\n"),
        fill,
        Approve("protocol=https\nhost=h.example\nusername=zed\npassword=zed-pw\n"),
        fill,
        Approve("protocol=https\nhost=h.example\nusername=amy\npassword=amy-pw-2\n"),
        fill,
        Fill("protocol=https\nhost=h.example\nusername=zed\n"),
        Reject("protocol=https\nhost=h.example\nusername=amy\n"),
        fill,
    ]);
    let users: Vec<Option<&str>> = answers
        .iter()
        .map(|a| a.as_deref().and_then(username))
        .collect();
    assert_eq!(
        users,
        [
            Some("amy"),
            Some("zed"),
            Some("amy"),
            Some("zed"),
            Some("zed")
        ]
    );
    assert_eq!(password(answers[2].as_deref().unwrap()), Some("amy-pw-2"));
}

/// Where this helper is more lenient than `credential-store` (documented in docs/cli.md):
/// the host's case, the protocol's default port, a trailing dot on the host and the
/// protocol's case do not matter. Each is checked against `credential-store`, which does
/// not match them, and another port or protocol still matches in neither.
#[test]
fn lenient_matches_are_the_documented_ones() {
    let both = Both::new();
    let stored = "protocol=https\nhost=git.example.com\nusername=u\npassword=lenient-pw\n";
    both.ours.approve(stored, &[]);
    both.reference.approve(stored, &[]);
    for (what, request) in [
        ("host case", "protocol=https\nhost=GIT.Example.COM\n"),
        ("default port", "protocol=https\nhost=git.example.com:443\n"),
        ("trailing dot", "protocol=https\nhost=git.example.com.\n"),
        ("protocol case", "protocol=HTTPS\nhost=git.example.com\n"),
        // (git sends the path of an `HTTPS://` URL: it compares `https` with case.)
        ("all at once", "url=HTTPS://Git.Example.com.:443\n"),
    ] {
        let ours = both.ours.fill(request, &[]);
        assert_eq!(
            ours.as_deref().and_then(password),
            Some("lenient-pw"),
            "{what}: {ours:?}"
        );
        assert_eq!(both.reference.fill(request, &[]), None, "{what}");
    }
    // The stored credential for `smtp` on the default port 25 matches without it.
    let smtp = "protocol=smtp\nhost=smtp.example.com:25\nusername=u\npassword=smtp-pw\n";
    both.ours.approve(smtp, &[]);
    let ours = both
        .ours
        .fill("protocol=smtp\nhost=smtp.example.com\n", &[]);
    assert_eq!(ours.as_deref().and_then(password), Some("smtp-pw"));
    both.run(&[
        Step::Fill("protocol=https\nhost=git.example.com:8443\n"),
        Step::Fill("protocol=http\nhost=git.example.com\n"),
        Step::Fill("protocol=https\nhost=git.example.com.evil\n"),
    ]);
}
