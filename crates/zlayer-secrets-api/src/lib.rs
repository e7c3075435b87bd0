//! The HTTP API of the zlayer-secrets server, as data: the routes, the query of the secret
//! routes, and every request and response body. The server (`zlayer-secrets-server`) and the
//! client (`zlayer-secrets-client`) are both written against this crate, so the two cannot
//! disagree about a field.
//!
//! The routes of the original `ZLayer` API keep their shapes exactly (`POST /auth/token`,
//! the `/api/v1/secrets` family); the routes beyond it follow the same style. Every body is
//! JSON; an error is always [`ErrorBody`] (`{"error": "..."}`) with the status that says what
//! went wrong, and never holds a value or a token. `docs/server.md` lists each route with an
//! example.
//!
//! Bodies that carry a value or a credential redact it in `Debug` and zeroize it on drop.

mod audit;
mod bodies;
mod query;
pub mod routes;

pub use audit::{AuditQuery, AuditResponse};
pub use bodies::*;
pub use query::{DEFAULT_SCOPE, QueryError, SecretQuery, is_environment_scope};
