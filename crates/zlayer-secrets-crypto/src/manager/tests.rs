use super::*;

#[test]
fn deployment_names_that_could_leave_the_directory_are_refused() {
    for bad in [
        "",
        ".",
        "..",
        "../x",
        "a/b",
        "/abs",
        "a\\b",
        "nul\0x",
        "line\nbreak",
        "tab\tx",
        "esc\u{1b}",
        " lead",
        "trail ",
    ] {
        let err = validate_deployment(bad).unwrap_err();
        assert!(
            matches!(&err, SecretsError::InvalidName { name } if name.starts_with("deployment")),
            "{bad:?}: {err}"
        );
    }
    let long = "d".repeat(MAX_DEPLOYMENT_LEN + 1);
    let message = validate_deployment(&long).unwrap_err().to_string();
    assert!(message.contains("201 bytes"), "{message}");
    for good in [
        "a",
        "ab",
        "prod",
        "my app",
        "a..b",
        "ünïcode",
        &"d".repeat(MAX_DEPLOYMENT_LEN),
    ] {
        validate_deployment(good).unwrap();
    }
}

#[test]
fn file_paths_follow_the_documented_names() {
    let manager = KeyManager::with_base_dir("/data");
    assert_eq!(
        manager.key_file_path("prod"),
        Path::new("/data/secrets_prod.key")
    );
    assert_eq!(
        manager.salt_file_path("prod"),
        Path::new("/data/secrets_prod.salt")
    );
    assert_eq!(
        manager.pending_key_file_path("prod"),
        Path::new("/data/secrets_prod.key.new")
    );
    assert_eq!(manager.base_dir().unwrap(), Path::new("/data"));
}

#[test]
fn sources_display_without_key_material() {
    assert_eq!(
        KeySource::Env.to_string(),
        "environment variable ZLAYER_SECRETS_KEY"
    );
    let source = KeySource::Password {
        salt_file: PathBuf::from("/d/secrets_a.salt"),
        new_salt: false,
    };
    assert_eq!(
        source.to_string(),
        "password in ZLAYER_SECRETS_PASSWORD (salt file /d/secrets_a.salt)"
    );
    assert_eq!(
        KeySource::File(PathBuf::from("/d/k")).to_string(),
        "key file /d/k"
    );
    assert_eq!(
        KeySource::Generated(PathBuf::from("/d/k")).to_string(),
        "new key file /d/k"
    );
}

#[test]
fn debug_does_not_show_the_environment() {
    let manager = KeyManager::with_base_dir("/data").with_env_vars([(ENV_PASSWORD, "hunter2")]);
    let debug = format!("{manager:?}");
    assert!(debug.contains("/data"), "{debug}");
    assert!(!debug.contains("hunter2"), "{debug}");
}

#[test]
fn a_manager_without_a_directory_says_how_to_fix_it() {
    let manager = KeyManager {
        base_dir: None,
        env: Arc::new(|_| None),
    };
    let message = manager.get_or_create_key("a").unwrap_err().to_string();
    assert!(message.contains(ENV_DIR), "{message}");
}
