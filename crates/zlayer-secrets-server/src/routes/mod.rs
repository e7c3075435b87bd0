//! The router: every route, the fallbacks, the limits and the request log.

mod admin;
mod audit;
mod auth;
mod resolve;
mod secrets;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use zlayer_secrets_api::routes;

use crate::access;
use crate::error::ApiError;
use crate::extract::body_too_large;
use crate::state::AppState;

/// The largest JSON body: a value at the store's limit with every byte escaped.
pub(crate) const MAX_JSON_BODY: usize = 8 * 1024 * 1024;
/// The largest body of an import or a batch.
pub(crate) const MAX_BULK_BODY: usize = 32 * 1024 * 1024;

/// The whole API.
pub(crate) fn router(state: Arc<AppState>, request_timeout: Duration) -> Router {
    let bulk = Router::new()
        .route(
            routes::BULK_IMPORT,
            post(secrets::bulk_import)
                .get(secrets::get_fixed)
                .delete(secrets::delete_fixed),
        )
        .route(routes::BATCH, post(secrets::batch))
        .layer(DefaultBodyLimit::max(MAX_BULK_BODY));
    let authenticated = Router::new()
        .route(routes::WHOAMI, get(admin::whoami))
        .route(routes::SECRETS, get(secrets::list).post(secrets::write))
        .route(
            routes::REVEAL_ALL,
            get(secrets::reveal_all).delete(secrets::delete_fixed),
        )
        .route(
            routes::VALUES,
            post(secrets::values)
                .get(secrets::get_fixed)
                .delete(secrets::delete_fixed),
        )
        .route(routes::SECRET, get(secrets::get).delete(secrets::delete))
        .route(routes::ROTATE, post(secrets::rotate))
        .route(routes::ROLLBACK, post(secrets::rollback))
        .route(routes::VERSIONS, get(secrets::versions))
        .route(routes::VERSION, get(secrets::version))
        .route(routes::RESOLVE, post(resolve::resolve))
        .route(
            routes::GRANTS,
            get(admin::grants).put(admin::grant).delete(admin::revoke),
        )
        .route(
            routes::API_KEYS,
            get(admin::api_keys).post(admin::create_api_key),
        )
        .route(
            routes::API_KEY,
            axum::routing::delete(admin::delete_api_key),
        )
        .route(routes::AUDIT, get(audit::entries))
        .route(routes::AUDIT_VERIFY, get(audit::verify))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .merge(bulk)
        // Authenticated once, each handler runs as its caller in the audit log.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::attributed,
        ));
    Router::new()
        .route(routes::HEALTH, get(auth::health))
        .route(routes::TOKEN, post(auth::token))
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .merge(authenticated)
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn(log_request))
        // Marked sensitive, the bearer token is left out of any `Debug` of the request.
        .layer(
            tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer::new([
                axum::http::header::AUTHORIZATION,
            ]),
        )
        .layer(axum::middleware::from_fn(move |req, next| {
            within(request_timeout, req, next)
        }))
        .with_state(state)
}

async fn no_route(method: Method) -> ApiError {
    ApiError::not_found(format!("no such route for {method}; see docs/server.md"))
}

async fn wrong_method(method: Method) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("this route does not answer {method}"),
    )
}

/// Answers 503 when a request takes longer than `limit` (the store's work already handed
/// to its thread finishes; only the answer is given up).
async fn within(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the request took too long; try again",
        )
        .into_response(),
    }
}

/// Logs each request: method, route pattern (not the path: no secret names), status,
/// time. Never a header, a query or a body. Turns axum's plain-text 413 into JSON.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "(no route)".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status();
    tracing::info!(
        %method,
        route,
        status = status.as_u16(),
        ms = started.elapsed().as_millis(),
        "request"
    );
    if status == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&response) {
        return body_too_large().into_response();
    }
    response
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}
