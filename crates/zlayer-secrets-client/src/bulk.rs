//! The routes that do in one request what the traits do in several: resolving an
//! environment, revealing a scope, importing a dotenv text.

use std::collections::{BTreeMap, HashMap};

use reqwest::{Method, StatusCode};
use zlayer_secrets_api::{
    ImportResponse, ResolveRequest, ResolveResponse, RevealAllResponse, SecretQuery, routes,
};
use zlayer_secrets_core::{Result, Secret, SecretRef, SecretsError};

use crate::RemoteStore;
use crate::http::{Body, Request};

impl RemoteStore {
    /// Resolves the references of an environment map in one request (`POST
    /// /api/v1/resolve`), as [`SecretsResolver::resolve_env`] over a local store does:
    /// `$S:name` reads `scope`, `$S:@service/name` reads `scope/service`, environment
    /// references the environment's scope (`env:E`, `project:P:env:E`); references in
    /// `{{ }}` placeholders of a longer value are replaced by the server; values that hold
    /// neither come back as they are (and are not sent). Errors are those of the resolver,
    /// with the server's status.
    ///
    /// [`SecretsResolver::resolve_env`]: zlayer_secrets_core::SecretsResolver::resolve_env
    pub async fn resolve_env(
        &self,
        scope: &str,
        env: &HashMap<String, String>,
    ) -> Result<HashMap<String, String>> {
        let references: BTreeMap<String, String> = env
            .iter()
            .filter(|(_, value)| SecretRef::looks_like_reference(value) || value.contains("{{"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut out: HashMap<String, String> = env
            .iter()
            .filter(|(k, _)| !references.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if references.is_empty() {
            return Ok(out);
        }
        let body = Body::json(&ResolveRequest {
            scope: scope.to_owned(),
            references,
        })?;
        let what = format!("the resolution of references in scope `{scope}`");
        let request = Request::new(Method::POST, routes::RESOLVE, &what).body(body);
        let mut answer: ResolveResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        out.extend(std::mem::take(&mut answer.values));
        Ok(out)
    }

    /// Every value of the scope `query` names (`GET /api/v1/secrets/reveal-all`).
    pub async fn reveal_all(&self, query: &SecretQuery) -> Result<BTreeMap<String, Secret>> {
        let request = Request::new(
            Method::GET,
            routes::REVEAL_ALL,
            "a read of every value of a scope",
        )
        .query(query)?;
        let mut answer: RevealAllResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        Ok(std::mem::take(&mut answer.secrets)
            .into_iter()
            .map(|(name, value)| (name, Secret::new(value)))
            .collect())
    }

    /// Imports a dotenv (or JSON) text into the scope `query` names, all or nothing
    /// (`POST /api/v1/secrets/bulk-import`). A text with bad lines is a
    /// [`SecretsError::Server`] with status 400 whose message lists every bad line (never a
    /// value); nothing is written then.
    pub async fn bulk_import(&self, query: &SecretQuery, text: &str) -> Result<ImportResponse> {
        let request = Request::new(Method::POST, routes::BULK_IMPORT, "an import")
            .query(query)?
            .body(Body::text(text));
        let answer: ImportResponse = self.http.call(&request, &[StatusCode::OK]).await?;
        if !answer.errors.is_empty() {
            return Err(SecretsError::Server {
                status: 200,
                message: format!("the import reported: {}", answer.errors.join("; ")),
            });
        }
        Ok(answer)
    }
}
