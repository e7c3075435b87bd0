//! [`SecretScope`]: where a deployment- or service-level secret lives.

use alloc::string::String;

use crate::SecretRef;

/// The deployment / service scope of a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SecretScope {
    /// Shared by every service of a deployment.
    Deployment(String),
    /// Visible to one service of a deployment.
    Service {
        /// The deployment the service belongs to.
        deployment: String,
        /// The service.
        service: String,
    },
}

impl SecretScope {
    /// A deployment scope.
    pub fn deployment(name: impl Into<String>) -> Self {
        Self::Deployment(name.into())
    }

    /// A service scope.
    pub fn service(deployment: impl Into<String>, service: impl Into<String>) -> Self {
        Self::Service {
            deployment: deployment.into(),
            service: service.into(),
        }
    }

    /// A path-like key prefix for hierarchical stores:
    /// `deployments/{d}/secrets` or `deployments/{d}/services/{s}/secrets`.
    #[must_use]
    pub fn to_key_prefix(&self) -> String {
        match self {
            Self::Deployment(d) => alloc::format!("deployments/{d}/secrets"),
            Self::Service {
                deployment,
                service,
            } => {
                alloc::format!("deployments/{deployment}/services/{service}/secrets")
            }
        }
    }

    /// The scope string the resolver and the stores use: `deployment` or
    /// `deployment/service`.
    #[must_use]
    pub fn as_store_scope(&self) -> String {
        match self {
            Self::Deployment(d) => d.clone(),
            Self::Service {
                deployment,
                service,
            } => alloc::format!("{deployment}/{service}"),
        }
    }

    /// The deployment this scope belongs to.
    #[must_use]
    pub fn deployment_name(&self) -> &str {
        match self {
            Self::Deployment(d) => d,
            Self::Service { deployment, .. } => deployment,
        }
    }

    /// The service, for a service scope.
    #[must_use]
    pub fn service_name(&self) -> Option<&str> {
        match self {
            Self::Deployment(_) => None,
            Self::Service { service, .. } => Some(service),
        }
    }
}

impl SecretRef {
    /// The deployment / service scope this reference reads from, for a given deployment.
    ///
    /// Environment-scoped references have no deployment scope: they map to
    /// [`SecretScope::Deployment`] here and are resolved through an environment resolver by
    /// the layers above (as in the original API).
    #[must_use]
    pub fn to_scope(&self, deployment: &str) -> SecretScope {
        match &self.service {
            Some(service) => SecretScope::service(deployment, service.as_str()),
            None => SecretScope::deployment(deployment),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_prefixes() {
        assert_eq!(
            SecretScope::deployment("d").to_key_prefix(),
            "deployments/d/secrets"
        );
        let s = SecretScope::service("d", "api");
        assert_eq!(s.to_key_prefix(), "deployments/d/services/api/secrets");
        assert_eq!(s.as_store_scope(), "d/api");
        assert_eq!(s.deployment_name(), "d");
        assert_eq!(s.service_name(), Some("api"));
    }

    #[test]
    fn references_map_to_scopes() {
        let r = SecretRef::parse("$S:@api/token").expect("valid reference");
        assert_eq!(r.to_scope("d"), SecretScope::service("d", "api"));
        let r = SecretRef::parse("$S:token").expect("valid reference");
        assert_eq!(r.to_scope("d"), SecretScope::deployment("d"));
    }
}
