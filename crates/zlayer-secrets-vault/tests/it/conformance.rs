//! The store conformance suite of `zlayer-secrets-core`, against OpenBao.

zlayer_secrets_core::conformance_suite!(
    || async { crate::common::provider() },
    #[ignore = "needs OpenBao; run by cargo xtask ci"]
);
