//! The paths of the API. Paths with a `{name}` segment are written as axum routes them; the
//! client fills the segment in with [`secret_path`] and friends.

/// `GET`: liveness, without authentication: `{"status": "ok"}`.
pub const HEALTH: &str = "/health";
/// `POST` [`TokenRequest`](crate::TokenRequest) → [`TokenResponse`](crate::TokenResponse).
pub const TOKEN: &str = "/auth/token";
/// `GET`: the caller's identity, [`Identity`](crate::Identity).
pub const WHOAMI: &str = "/api/v1/whoami";
/// `GET`: list a scope's secrets; `POST`: create or update one.
pub const SECRETS: &str = "/api/v1/secrets";
/// `GET` metadata (with `reveal=true` the value), `DELETE`.
pub const SECRET: &str = "/api/v1/secrets/{name}";
/// `POST` [`RotateRequest`](crate::RotateRequest) → [`RotateResponse`](crate::RotateResponse).
pub const ROTATE: &str = "/api/v1/secrets/{name}/rotate";
/// `POST` [`RollbackRequest`](crate::RollbackRequest) → [`RotateResponse`](crate::RotateResponse).
pub const ROLLBACK: &str = "/api/v1/secrets/{name}/rollback";
/// `GET` → [`VersionsResponse`](crate::VersionsResponse).
pub const VERSIONS: &str = "/api/v1/secrets/{name}/versions";
/// `GET` one past version with its value → [`SecretBody`](crate::SecretBody).
pub const VERSION: &str = "/api/v1/secrets/{name}/versions/{version}";
/// `POST` dotenv text → [`ImportResponse`](crate::ImportResponse), all or nothing.
pub const BULK_IMPORT: &str = "/api/v1/secrets/bulk-import";
/// `GET` → [`RevealAllResponse`](crate::RevealAllResponse).
pub const REVEAL_ALL: &str = "/api/v1/secrets/reveal-all";
/// `POST` [`ValuesRequest`](crate::ValuesRequest) → [`ValuesResponse`](crate::ValuesResponse):
/// several values of one scope in one request.
pub const VALUES: &str = "/api/v1/secrets/values";
/// `POST` [`BatchRequest`](crate::BatchRequest): several writes and deletes, all or nothing.
pub const BATCH: &str = "/api/v1/batch";
/// `POST` [`ResolveRequest`](crate::ResolveRequest) → [`ResolveResponse`](crate::ResolveResponse):
/// every reference of an environment map in one request.
pub const RESOLVE: &str = "/api/v1/resolve";
/// `GET` (query `environment`, `project`) → [`GrantsResponse`](crate::GrantsResponse);
/// `PUT` [`GrantRequest`](crate::GrantRequest); `DELETE` (query `subject`, `environment`,
/// `project`) → [`RevokeResponse`](crate::RevokeResponse).
pub const GRANTS: &str = "/api/v1/grants";
/// `GET` → a list of [`ApiKeyInfo`](crate::ApiKeyInfo); `POST`
/// [`ApiKeyRequest`](crate::ApiKeyRequest) → [`NewApiKey`](crate::NewApiKey).
pub const API_KEYS: &str = "/api/v1/api-keys";
/// `DELETE` one API key.
pub const API_KEY: &str = "/api/v1/api-keys/{id}";
/// `GET` (query [`AuditQuery`](crate::AuditQuery)) → [`AuditResponse`](crate::AuditResponse):
/// the audit log's entries, oldest first (role admin).
pub const AUDIT: &str = "/api/v1/audit";
/// `GET` → the `AuditVerification` of the audit log's chain (role admin).
pub const AUDIT_VERIFY: &str = "/api/v1/audit/verify";

use std::fmt::Write as _;

/// Characters escaped in a path segment: everything but unreserved characters (RFC 3986).
fn escape_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `/api/v1/secrets/NAME`, the name escaped.
#[must_use]
pub fn secret_path(name: &str) -> String {
    format!("{SECRETS}/{}", escape_segment(name))
}

/// `/api/v1/secrets/NAME/ACTION` (`rotate`, `rollback`, `versions`), the name escaped.
#[must_use]
pub fn secret_action_path(name: &str, action: &str) -> String {
    format!("{}/{action}", secret_path(name))
}

/// `/api/v1/secrets/NAME/versions/N`.
#[must_use]
pub fn version_path(name: &str, version: u32) -> String {
    format!("{}/versions/{version}", secret_path(name))
}

/// `/api/v1/api-keys/ID`, the id escaped.
#[must_use]
pub fn api_key_path(id: &str) -> String {
    format!("{API_KEYS}/{}", escape_segment(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(secret_path("db-password"), "/api/v1/secrets/db-password");
        assert_eq!(secret_path("a b/c"), "/api/v1/secrets/a%20b%2Fc");
        assert_eq!(
            secret_action_path("x.y", "rotate"),
            "/api/v1/secrets/x.y/rotate"
        );
        assert_eq!(version_path("k", 3), "/api/v1/secrets/k/versions/3");
        assert_eq!(api_key_path("zk_1"), "/api/v1/api-keys/zk_1");
        assert_eq!(secret_path("ü"), "/api/v1/secrets/%C3%BC");
    }
}
