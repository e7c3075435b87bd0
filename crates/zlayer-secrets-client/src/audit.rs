//! The server's audit log: its entries and the check of its chain (role admin).

use reqwest::{Method, StatusCode};
use zlayer_secrets_api::{AuditQuery, AuditResponse, routes};
use zlayer_secrets_core::Result;
use zlayer_secrets_core::audit::{AuditEntry, AuditFilter, AuditVerification};

use crate::RemoteStore;
use crate::http::Request;

impl RemoteStore {
    /// The entries of the server's audit log that `filter` selects, oldest first (`GET
    /// /api/v1/audit`; role admin: for another key a
    /// [`SecretsError::Server`](zlayer_secrets_core::SecretsError::Server) with status 403,
    /// for which `is_access_denied()` is true, and the refusal is itself an entry).
    pub async fn audit_entries(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        let request = Request::new(Method::GET, routes::AUDIT, "the audit log")
            .query(&AuditQuery::from_filter(filter))?;
        let answer: AuditResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        Ok(answer.entries)
    }

    /// Checks the chain of the server's audit log: the first entry that was altered,
    /// removed or moved, if any (`GET /api/v1/audit/verify`; role admin).
    pub async fn audit_verify(&self) -> Result<AuditVerification> {
        let request = Request::new(
            Method::GET,
            routes::AUDIT_VERIFY,
            "the check of the audit log",
        );
        self.http.call(&request, &[StatusCode::OK]).await
    }
}
