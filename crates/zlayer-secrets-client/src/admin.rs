//! Grants, API keys and the caller's identity: the routes an admin (or a tool acting for
//! one) uses.

use reqwest::{Method, StatusCode};
use zlayer_secrets_api::{
    ApiKeyInfo, ApiKeyRequest, EnvironmentQuery, GrantRequest, GrantResponse, GrantsResponse,
    Identity, NewApiKey, RevokeQuery, RevokeResponse, routes,
};
use zlayer_secrets_core::Result;

use crate::RemoteStore;
use crate::http::{Body, Request};

impl RemoteStore {
    /// Who the API key speaks for: its subject, roles and groups (`GET /api/v1/whoami`).
    pub async fn whoami(&self) -> Result<Identity> {
        let request = Request::new(Method::GET, routes::WHOAMI, "the identity of the API key");
        self.http.call(&request, &[StatusCode::OK]).await
    }

    /// The grants on an environment (of a project, if given), users first, then groups
    /// (`GET /api/v1/grants`; role admin).
    pub async fn grants(&self, environment: &str, project: Option<&str>) -> Result<GrantsResponse> {
        let query = EnvironmentQuery {
            environment: environment.to_owned(),
            project: project.map(str::to_owned),
        };
        let request =
            Request::new(Method::GET, routes::GRANTS, "a listing of grants").query(&query)?;
        self.http.call(&request, &[StatusCode::OK]).await
    }

    /// Gives `subject` (`user:NAME`, `group:NAME` or a bare user name) `level` (`read`,
    /// `execute`, `write`) on an environment; the answer names the level before (`PUT
    /// /api/v1/grants`; role admin).
    pub async fn grant(
        &self,
        subject: &str,
        environment: &str,
        project: Option<&str>,
        level: &str,
    ) -> Result<GrantResponse> {
        let body = Body::json(&GrantRequest {
            subject: subject.to_owned(),
            environment: environment.to_owned(),
            project: project.map(str::to_owned),
            level: level.to_owned(),
        })?;
        let request = Request::new(Method::PUT, routes::GRANTS, "a grant").body(body);
        self.http.call(&request, &[StatusCode::OK]).await
    }

    /// Takes away the grant of `subject` on an environment; the answer names the level it
    /// had. Without such a grant: [`SecretsError::NotFound`] naming the grant, as locally
    /// (`DELETE /api/v1/grants`; role admin).
    ///
    /// [`SecretsError::NotFound`]: zlayer_secrets_core::SecretsError::NotFound
    pub async fn revoke(
        &self,
        subject: &str,
        environment: &str,
        project: Option<&str>,
    ) -> Result<RevokeResponse> {
        let query = RevokeQuery {
            subject: subject.to_owned(),
            environment: environment.to_owned(),
            project: project.map(str::to_owned),
        };
        let request = Request::new(Method::DELETE, routes::GRANTS, "a revoke").query(&query)?;
        self.http.call(&request, &[StatusCode::OK]).await
    }

    /// Every API key with its subject, roles and groups, never a secret (`GET
    /// /api/v1/api-keys`; role admin).
    pub async fn api_keys(&self) -> Result<Vec<ApiKeyInfo>> {
        let request = Request::new(Method::GET, routes::API_KEYS, "a listing of API keys");
        self.http.call(&request, &[StatusCode::OK]).await
    }

    /// Makes an API key for `subject` with `roles` and `groups`; the answer holds its
    /// secret, shown only now (`POST /api/v1/api-keys`; role admin).
    pub async fn create_api_key(
        &self,
        subject: &str,
        roles: &[&str],
        groups: &[&str],
    ) -> Result<NewApiKey> {
        let body = Body::json(&ApiKeyRequest {
            subject: subject.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        })?;
        let request =
            Request::new(Method::POST, routes::API_KEYS, "the creation of an API key").body(body);
        self.http
            .call(&request, &[StatusCode::CREATED, StatusCode::OK])
            .await
    }

    /// Deletes the API key `id`; its tokens stop working at once (`DELETE
    /// /api/v1/api-keys/{id}`; role admin). An unknown key is a
    /// [`SecretsError::Server`](zlayer_secrets_core::SecretsError::Server) with status 404.
    pub async fn delete_api_key(&self, id: &str) -> Result<()> {
        let request = Request::new(
            Method::DELETE,
            routes::api_key_path(id),
            "the deletion of an API key",
        );
        self.http
            .call_empty(&request, &[StatusCode::NO_CONTENT, StatusCode::OK])
            .await
    }
}
