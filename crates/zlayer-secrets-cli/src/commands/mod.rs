//! One module per group of verbs.

pub(crate) mod api_keys;
pub(crate) mod audit;
pub(crate) mod credentials;
pub(crate) mod grants;
pub(crate) mod inject;
pub(crate) mod keys;
pub(crate) mod run;
pub(crate) mod secrets;
pub(crate) mod serve;
pub(crate) mod transfer;
pub(crate) mod watch;
