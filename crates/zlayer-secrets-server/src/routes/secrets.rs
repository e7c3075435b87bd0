//! The `/api/v1/secrets` routes of the original API, and ours beside them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use zlayer_secrets_api::{
    BatchOp, BatchRequest, BatchResponse, ImportResponse, RevealAllResponse, RollbackRequest,
    RotateRequest, RotateResponse, SecretBody, SecretQuery, ValuesRequest, ValuesResponse,
    VersionsResponse, WriteRequest,
};
use zlayer_secrets_core::audit::{self, AuditAction, AuditRecord, read_action};
use zlayer_secrets_core::{
    Secret, SecretMetadata, SecretsError, WriteOp, is_reserved_scope, validate_name,
    validate_scope, validate_value,
};
use zlayer_secrets_credentials::Operation;
use zlayer_secrets_formats::{Format, Place, dotenv};

use crate::access::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

type AppStateRef = State<Arc<AppState>>;

/// The scope of a query, or 400.
fn scope_of(query: &SecretQuery) -> ApiResult<String> {
    query
        .target_scope()
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

fn check_name(name: &str) -> ApiResult<()> {
    validate_name(name).map_err(ApiError::from)
}

/// A scope named in a body: valid and not reserved.
fn body_scope(scope: &str) -> ApiResult<()> {
    validate_scope(scope)?;
    if is_reserved_scope(scope) {
        return Err(ApiError::bad_request(format!(
            "scope `{}` is reserved for zlayer-secrets' own records",
            scope.escape_debug()
        )));
    }
    Ok(())
}

/// `GET /api/v1/secrets`: the scope's secrets, by name.
pub(crate) async fn list(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<SecretQuery>,
) -> ApiResult<axum::Json<Vec<SecretBody>>> {
    let scope = scope_of(&query)?;
    caller
        .require(&state, &scope, None, Operation::List)
        .await?;
    let mut list = state.stores.store.list_secrets(&scope).await?;
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(axum::Json(
        list.iter().map(SecretBody::from_metadata).collect(),
    ))
}

/// `POST /api/v1/secrets`: create (201) or update (200); with `exclusive=true`, create or
/// 409.
pub(crate) async fn write(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<SecretQuery>,
    Json(mut body): Json<WriteRequest>,
) -> ApiResult<Response> {
    let scope = match body.scope.take() {
        Some(scope) => {
            if (query.scope.is_some() || query.environment.is_some()) && scope_of(&query)? != scope
            {
                return Err(ApiError::bad_request(
                    "the body's `scope` and the query name different scopes",
                ));
            }
            body_scope(&scope)?;
            scope
        }
        None => scope_of(&query)?,
    };
    check_name(&body.name)?;
    if body.name == REVEAL_ALL_NAME {
        return Err(ApiError::bad_request(format!(
            "a secret named `{REVEAL_ALL_NAME}` could not be read through the API: \
             GET /api/v1/secrets/{REVEAL_ALL_NAME} is the route of every value; choose another name"
        )));
    }
    let value = Secret::new(std::mem::take(&mut body.value));
    validate_value(&scope, &body.name, &value)?;
    let store = &state.stores.store;
    // The version this write made, from the write itself: a concurrent write of the same
    // name cannot make the answer describe another version.
    let version = if query.exclusive() {
        caller
            .require(&state, &scope, Some(body.name.as_str()), Operation::Create)
            .await?;
        store.create_secret(&scope, &body.name, &value).await?
    } else {
        caller
            .require(&state, &scope, Some(body.name.as_str()), Operation::Set)
            .await?;
        store.write_secret(&scope, &body.name, &value).await?
    };
    drop(value);
    // Version 1 is a new secret (a deleted secret's history goes with it).
    let status = if version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let metadata = store.get_metadata(&scope, &body.name).await?;
    let mut answer = SecretBody::from_metadata(&metadata);
    if metadata.version != version {
        // Another write came after ours: describe ours.
        answer.version = version;
        if let Some(ours) = store
            .list_versions(&scope, &body.name)
            .await?
            .into_iter()
            .find(|v| v.version == version)
        {
            answer.updated_at = ours.created_at;
        }
    }
    Ok((status, axum::Json(answer)).into_response())
}

/// The one name a secret cannot have through the API: `GET /api/v1/secrets/reveal-all` is
/// the original's route of every value. (`values` and `bulk-import` are served: their fixed
/// routes answer only `POST`, and `GET` and `DELETE` there reach the secret.)
pub(crate) const REVEAL_ALL_NAME: &str = "reveal-all";

/// `GET /api/v1/secrets/values` or `/bulk-import`: the secret of that name.
pub(crate) async fn get_fixed(
    state: AppStateRef,
    caller: Caller,
    matched: axum::extract::MatchedPath,
    query: Query<SecretQuery>,
) -> ApiResult<axum::Json<SecretBody>> {
    let name = fixed_name(&matched);
    get(state, caller, Path(name), query).await
}

/// `DELETE /api/v1/secrets/values`, `/bulk-import` or `/reveal-all`: the secret of that
/// name.
pub(crate) async fn delete_fixed(
    state: AppStateRef,
    caller: Caller,
    matched: axum::extract::MatchedPath,
    query: Query<SecretQuery>,
) -> ApiResult<StatusCode> {
    let name = fixed_name(&matched);
    delete(state, caller, Path(name), query).await
}

/// The last segment of a fixed route under `/api/v1/secrets/`.
fn fixed_name(matched: &axum::extract::MatchedPath) -> String {
    matched
        .as_str()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// `GET /api/v1/secrets/{name}`: metadata; with `reveal=true` also the value.
pub(crate) async fn get(
    State(state): AppStateRef,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<SecretQuery>,
) -> ApiResult<axum::Json<SecretBody>> {
    let scope = scope_of(&query)?;
    check_name(&name)?;
    let reveal = query.reveal();
    let operation = if reveal {
        Operation::Reveal
    } else {
        Operation::Metadata
    };
    caller
        .require(&state, &scope, Some(name.as_str()), operation)
        .await?;
    let store = &state.stores.store;
    let metadata = if reveal {
        metadata_for_reveal(&state, &scope, &name, None).await?
    } else {
        store.get_metadata(&scope, &name).await?
    };
    let mut body = SecretBody::from_metadata(&metadata);
    if reveal {
        // The value of exactly the version the metadata describes.
        let secret = store
            .get_secret_version(&scope, &name, metadata.version)
            .await?;
        body.value = Some(secret.expose().to_owned());
    }
    Ok(axum::Json(body))
}

/// The metadata a reveal of `scope`/`name` starts from. When it cannot be read (no such
/// secret) the reveal ends before the store reads a value, so its entry (`reveal`,
/// `not-found`) is recorded here.
async fn metadata_for_reveal(
    state: &AppState,
    scope: &str,
    name: &str,
    version: Option<u32>,
) -> ApiResult<SecretMetadata> {
    match state.stores.store.get_metadata(scope, name).await {
        Ok(metadata) => Ok(metadata),
        Err(e) => {
            let purpose = audit::current().and_then(|c| c.purpose);
            if let Some(action) = read_action(scope, purpose) {
                let record = AuditRecord::failed(action, scope, name, &e).with_version(version);
                state.record(vec![record]).await;
            }
            Err(e.into())
        }
    }
}

/// `DELETE /api/v1/secrets/{name}`: 204, or 404.
pub(crate) async fn delete(
    State(state): AppStateRef,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<SecretQuery>,
) -> ApiResult<StatusCode> {
    let scope = scope_of(&query)?;
    check_name(&name)?;
    caller
        .require(&state, &scope, Some(name.as_str()), Operation::Delete)
        .await?;
    state.stores.store.delete_secret(&scope, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/secrets/{name}/rotate`.
pub(crate) async fn rotate(
    State(state): AppStateRef,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<SecretQuery>,
    Json(mut body): Json<RotateRequest>,
) -> ApiResult<axum::Json<RotateResponse>> {
    let scope = scope_of(&query)?;
    check_name(&name)?;
    let value = Secret::new(std::mem::take(&mut body.value));
    validate_value(&scope, &name, &value)?;
    caller
        .require(&state, &scope, Some(name.as_str()), Operation::Rotate)
        .await?;
    let result = state
        .stores
        .store
        .rotate_secret(&scope, &name, &value)
        .await?;
    Ok(axum::Json(RotateResponse {
        name,
        previous_version: result.previous_version.unwrap_or(0),
        new_version: result.new_version,
    }))
}

/// `POST /api/v1/secrets/{name}/rollback`.
pub(crate) async fn rollback(
    State(state): AppStateRef,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<SecretQuery>,
    Json(body): Json<RollbackRequest>,
) -> ApiResult<axum::Json<RotateResponse>> {
    let scope = scope_of(&query)?;
    check_name(&name)?;
    caller
        .require(&state, &scope, Some(name.as_str()), Operation::Rollback)
        .await?;
    let result = state
        .stores
        .store
        .rollback_secret(&scope, &name, body.to)
        .await?;
    Ok(axum::Json(RotateResponse {
        name,
        previous_version: result.previous_version.unwrap_or(0),
        new_version: result.new_version,
    }))
}

/// `GET /api/v1/secrets/{name}/versions`.
pub(crate) async fn versions(
    State(state): AppStateRef,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<SecretQuery>,
) -> ApiResult<axum::Json<VersionsResponse>> {
    let scope = scope_of(&query)?;
    check_name(&name)?;
    caller
        .require(&state, &scope, Some(name.as_str()), Operation::Metadata)
        .await?;
    let history = state.stores.store.version_history(&scope, &name).await?;
    Ok(axum::Json(VersionsResponse {
        name,
        current: history.current,
        current_state: history.current_state,
        versions: history.versions,
    }))
}

/// `GET /api/v1/secrets/{name}/versions/{version}`: one version with its value.
pub(crate) async fn version(
    State(state): AppStateRef,
    caller: Caller,
    Path((name, version)): Path<(String, u32)>,
    Query(query): Query<SecretQuery>,
) -> ApiResult<axum::Json<SecretBody>> {
    let scope = scope_of(&query)?;
    check_name(&name)?;
    caller
        .require(&state, &scope, Some(name.as_str()), Operation::Reveal)
        .await?;
    let store = &state.stores.store;
    let metadata = metadata_for_reveal(&state, &scope, &name, Some(version)).await?;
    let value = store.get_secret_version(&scope, &name, version).await?;
    let written = store
        .list_versions(&scope, &name)
        .await?
        .into_iter()
        .find(|v| v.version == version)
        .map_or(metadata.updated_at, |v| v.created_at);
    Ok(axum::Json(SecretBody {
        name,
        created_at: metadata.created_at,
        updated_at: written,
        version,
        value: Some(value.expose().to_owned()),
    }))
}

/// `POST /api/v1/secrets/values`: several values of one scope.
pub(crate) async fn values(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<SecretQuery>,
    Json(body): Json<ValuesRequest>,
) -> ApiResult<axum::Json<ValuesResponse>> {
    let scope = scope_of(&query)?;
    for name in &body.names {
        check_name(name)?;
    }
    let names: Vec<&str> = body.names.iter().map(String::as_str).collect();
    caller
        .require_names(&state, &scope, &names, Operation::Reveal)
        .await?;
    let found = state.stores.store.get_secrets(&scope, &names).await?;
    Ok(axum::Json(ValuesResponse {
        secrets: found
            .into_iter()
            .map(|(k, v)| (k, v.expose().to_owned()))
            .collect(),
    }))
}

/// `GET /api/v1/secrets/reveal-all`: every value of a scope.
pub(crate) async fn reveal_all(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<SecretQuery>,
) -> ApiResult<axum::Json<RevealAllResponse>> {
    let scope = scope_of(&query)?;
    caller
        .require(&state, &scope, None, Operation::Export)
        .await?;
    let store = &state.stores.store;
    let names: Vec<String> = store
        .list_secrets(&scope)
        .await?
        .into_iter()
        .map(|m| m.name)
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let found = store.get_secrets(&scope, &refs).await?;
    Ok(axum::Json(RevealAllResponse {
        environment: query.environment.clone().unwrap_or(scope),
        secrets: found
            .into_iter()
            .map(|(k, v)| (k, v.expose().to_owned()))
            .collect(),
    }))
}

/// An entry of an import: key, value, where it was found.
type Entry = (String, Secret, Place);

/// The most entries one import may hold.
const MAX_IMPORT_ENTRIES: usize = 10_000;

/// `POST /api/v1/secrets/bulk-import`: a dotenv (or JSON) text, all or nothing: any bad
/// line is a 400 listing every bad line, and nothing is written.
pub(crate) async fn bulk_import(
    State(state): AppStateRef,
    caller: Caller,
    Query(query): Query<SecretQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let scope = scope_of(&query)?;
    caller
        .require(&state, &scope, None, Operation::Import)
        .await?;
    let Ok(text) = std::str::from_utf8(&body) else {
        return Err(ApiError::bad_request("the body is not UTF-8 text"));
    };
    // Every bad line at once: the lines that do not parse, and the good lines whose name
    // or value the store would refuse, in the order of the file.
    let (pairs, mut problems): (Vec<Entry>, Vec<(usize, String)>) = match Format::detect(text) {
        Format::Env => {
            let (parsed, errors) = dotenv::parse_all(text, MAX_IMPORT_ENTRIES);
            let pairs = parsed
                .entries
                .into_iter()
                .map(|e| (e.key, e.value, Place::Line(e.line)))
                .collect();
            let errors = errors
                .iter()
                .map(|e| (e.line().unwrap_or(0), e.to_string()))
                .collect();
            (pairs, errors)
        }
        Format::Json => {
            match zlayer_secrets_formats::read(text, Format::Json, MAX_IMPORT_ENTRIES) {
                Ok(read) => (
                    read.pairs
                        .into_iter()
                        .map(|p| (p.key, p.value, p.place))
                        .collect(),
                    Vec::new(),
                ),
                Err(errors) => (
                    Vec::new(),
                    errors.iter().map(|e| (0, e.to_string())).collect(),
                ),
            }
        }
    };
    let mut entries: BTreeMap<String, (Secret, String)> = BTreeMap::new();
    for (key, value, place) in pairs {
        let line = match place {
            Place::Line(line) => line,
            Place::Key(_) => 0,
        };
        let place = place.to_string();
        let problem = if let Err(e) = validate_name(&key) {
            Some(format!("{place}: {e}"))
        } else if let Err(e) = validate_value(&scope, &key, &value) {
            Some(format!("{place}: {e}"))
        } else if let Some((_, first)) = entries.get(&key) {
            Some(format!(
                "{place}: \"{}\" is defined again (first at {first})",
                key.escape_debug()
            ))
        } else {
            entries.insert(key, (value, place));
            None
        };
        if let Some(problem) = problem {
            problems.push((line, problem));
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|(line, _)| *line);
        let problems: Vec<String> = problems.into_iter().map(|(_, p)| p).collect();
        return Ok(import_refused(&problems));
    }
    let names: Vec<&str> = entries.keys().map(String::as_str).collect();
    let current = values_to_compare(&state, &scope, &names).await?;
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    let mut ops = Vec::new();
    for (name, (value, _)) in entries {
        match current.get(&name) {
            Some(old) if old.expose() == value.expose() => {
                unchanged += 1;
                continue;
            }
            Some(_) => updated += 1,
            None => created += 1,
        }
        ops.push(WriteOp::Set {
            scope: scope.clone(),
            name,
            value,
        });
    }
    drop(current);
    if !ops.is_empty() {
        state.stores.batch.apply_batch(&ops).await?;
    }
    Ok(axum::Json(ImportResponse {
        created,
        updated,
        unchanged,
        errors: Vec::new(),
    })
    .into_response())
}

/// The current values of `names`, read by an import to count what it leaves unchanged:
/// read to compare, not to reveal, so not recorded (the import's writes are its entries).
async fn values_to_compare(
    state: &AppState,
    scope: &str,
    names: &[&str],
) -> ApiResult<HashMap<String, Secret>> {
    let read = state.stores.store.get_secrets(scope, names);
    Ok(match audit::current() {
        Some(context) => audit::scope(context.with_purpose(AuditAction::Import), read).await?,
        None => read.await?,
    })
}

/// The 400 of an import with bad lines: `error`, and every problem in `errors`.
fn import_refused(errors: &[String]) -> Response {
    let count = errors.len();
    let body = serde_json::json!({
        "error": format!(
            "the import has {count} bad {}; nothing was written",
            if count == 1 { "entry" } else { "entries" }
        ),
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": errors,
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// `POST /api/v1/batch`: writes and deletes of any scopes the caller may write, all or
/// nothing on a store with transactions.
pub(crate) async fn batch(
    State(state): AppStateRef,
    caller: Caller,
    Json(mut body): Json<BatchRequest>,
) -> ApiResult<axum::Json<BatchResponse>> {
    let mut ops = Vec::with_capacity(body.ops.len());
    let mut checked: HashSet<(String, bool)> = HashSet::new();
    for op in &mut body.ops {
        let (scope, name, is_set) = match op {
            BatchOp::Set { scope, name, .. } => (scope.clone(), name.clone(), true),
            BatchOp::Delete { scope, name } => (scope.clone(), name.clone(), false),
        };
        body_scope(&scope)?;
        check_name(&name)?;
        if checked.insert((scope.clone(), is_set)) {
            let operation = if is_set {
                Operation::Set
            } else {
                Operation::Delete
            };
            caller
                .require(&state, &scope, Some(name.as_str()), operation)
                .await?;
        }
        ops.push(match op {
            BatchOp::Set { value, .. } => {
                let value = Secret::new(std::mem::take(value));
                validate_value(&scope, &name, &value)?;
                WriteOp::Set { scope, name, value }
            }
            BatchOp::Delete { .. } => WriteOp::Delete { scope, name },
        });
    }
    let batch = &state.stores.batch;
    match batch.apply_batch(&ops).await {
        Ok(()) => Ok(axum::Json(BatchResponse {
            atomic: batch.is_atomic(),
        })),
        Err(e @ SecretsError::BatchIncomplete { .. }) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        )),
        Err(e) => Err(e.into()),
    }
}
