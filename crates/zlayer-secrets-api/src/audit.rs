//! The audit routes' query and answer.

use serde::{Deserialize, Serialize};
use zlayer_secrets_core::audit::{AuditAction, AuditEntry, AuditFilter};

use crate::QueryError;

/// The query of `GET /api/v1/audit`: every parameter optional, every one given must hold.
///
/// `since` and `until` are milliseconds since the Unix epoch (`since` inclusive, `until`
/// exclusive), as an entry's `at_ms`; `scope`, `name` and `actor` (the principal: an API
/// key's subject or an OS user) match exactly; `action` is an action's name (`reveal`,
/// `set`, `api-key-create`, ...); `limit` keeps the newest that many of the entries that
/// match. The fields are text so that a bad value is refused with a message of ours
/// ([`to_filter`](Self::to_filter)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// At or after this time, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Before this time, in milliseconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Exactly this scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Exactly this secret name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Exactly this principal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Exactly this action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// At most this many entries, the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

impl AuditQuery {
    /// The query that asks for what `filter` selects.
    #[must_use]
    pub fn from_filter(filter: &AuditFilter) -> Self {
        Self {
            since: filter.since_ms.map(|t| t.to_string()),
            until: filter.until_ms.map(|t| t.to_string()),
            scope: filter.scope.clone(),
            name: filter.name.clone(),
            actor: filter.actor.clone(),
            action: filter.action.map(|a| a.as_str().to_owned()),
            limit: filter.limit.map(|n| n.to_string()),
        }
    }

    /// The filter the query asks for; a parameter that is empty or does not parse is refused,
    /// naming it.
    pub fn to_filter(&self) -> Result<AuditFilter, QueryError> {
        fn text(param: &str, value: Option<&String>) -> Result<Option<String>, QueryError> {
            match value {
                Some(v) if v.is_empty() => Err(QueryError(format!("`{param}` is empty"))),
                other => Ok(other.cloned()),
            }
        }
        fn time(param: &str, value: Option<&String>) -> Result<Option<i64>, QueryError> {
            text(param, value)?
                .map(|v| {
                    v.parse::<i64>().map_err(|_| {
                        QueryError(format!(
                            "`{param}` must be a time in milliseconds since the Unix epoch \
                             (digits, e.g. 1767225600000), not `{}`",
                            v.escape_debug()
                        ))
                    })
                })
                .transpose()
        }
        let action = text("action", self.action.as_ref())?
            .map(|a| {
                a.parse::<AuditAction>()
                    .map_err(|e| QueryError(format!("`action`: {e}")))
            })
            .transpose()?;
        let limit = text("limit", self.limit.as_ref())?
            .map(|n| {
                n.parse::<u32>().map_err(|_| {
                    QueryError(format!(
                        "`limit` must be a number of entries (0 to {}), not `{}`",
                        u32::MAX,
                        n.escape_debug()
                    ))
                })
            })
            .transpose()?;
        Ok(AuditFilter {
            since_ms: time("since", self.since.as_ref())?,
            until_ms: time("until", self.until.as_ref())?,
            scope: text("scope", self.scope.as_ref())?,
            name: text("name", self.name.as_ref())?,
            actor: text("actor", self.actor.as_ref())?,
            action,
            limit,
        })
    }
}

/// The answer of `GET /api/v1/audit`: the entries, oldest first. Entries never hold a value
/// or a credential, only names, versions and outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditResponse {
    /// The entries the query selects, oldest first.
    pub entries: Vec<AuditEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_round_trip() {
        let filter = AuditFilter {
            since_ms: Some(1_000),
            until_ms: Some(2_000),
            scope: Some("env:prod".into()),
            name: Some("db".into()),
            actor: Some("alice".into()),
            action: Some(AuditAction::HelperGet),
            limit: Some(5),
        };
        let query = AuditQuery::from_filter(&filter);
        assert_eq!(query.action.as_deref(), Some("helper-get"));
        assert_eq!(query.to_filter().unwrap(), filter);
        assert_eq!(
            AuditQuery::default().to_filter().unwrap(),
            AuditFilter::default()
        );
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            (
                AuditQuery {
                    action: Some("peek".into()),
                    ..AuditQuery::default()
                },
                "`action`",
            ),
            (
                AuditQuery {
                    since: Some("yesterday".into()),
                    ..AuditQuery::default()
                },
                "`since`",
            ),
            (
                AuditQuery {
                    until: Some("1.5".into()),
                    ..AuditQuery::default()
                },
                "`until`",
            ),
            (
                AuditQuery {
                    limit: Some("-1".into()),
                    ..AuditQuery::default()
                },
                "`limit`",
            ),
            (
                AuditQuery {
                    scope: Some(String::new()),
                    ..AuditQuery::default()
                },
                "`scope` is empty",
            ),
        ];
        for (query, expected) in cases {
            let err = query.to_filter().unwrap_err().to_string();
            assert!(err.contains(expected), "{query:?}: {err}");
        }
    }
}
