//! [`SecretRef`], the parsed form of a reference.

use alloc::string::String;
use core::fmt;

/// A parsed secret reference.
///
/// Exactly one of these shapes holds:
/// - deployment-level: `service`, `project` and `environment` are `None`;
/// - service-scoped: `service` is `Some`, `project` and `environment` are `None`;
/// - environment-scoped: `environment` is `Some` (and `project` optionally), `service` is
///   `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SecretRef {
    /// The secret's name.
    pub name: String,
    /// The service, for `$S:@service/name`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub service: Option<String>,
    /// The project, for `$S:project:env/name`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub project: Option<String>,
    /// The environment, for `$S::env/name`, `$S:project:env/name` and `$secret://env/name`.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub environment: Option<String>,
    /// A JSON field to extract from the secret's value.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub field: Option<String>,
}

impl SecretRef {
    /// The prefix of the `$S:` forms.
    pub const PREFIX: &'static str = "$S:";

    /// Whether `value` starts like a `$S:` reference (it may still be malformed).
    #[must_use]
    pub fn is_secret_ref(value: &str) -> bool {
        value.starts_with(Self::PREFIX)
    }

    /// Whether this is a deployment-level reference.
    #[must_use]
    pub fn is_deployment_level(&self) -> bool {
        self.service.is_none() && self.project.is_none() && self.environment.is_none()
    }

    /// Whether this is a service-scoped reference.
    #[must_use]
    pub fn is_service_level(&self) -> bool {
        self.service.is_some()
    }

    /// Whether this is an environment-scoped reference (with or without a project).
    #[must_use]
    pub fn is_environment_level(&self) -> bool {
        self.environment.is_some()
    }

    /// Whether this is a project-scoped environment reference.
    #[must_use]
    pub fn is_project_environment_level(&self) -> bool {
        self.project.is_some() && self.environment.is_some()
    }

    /// Whether a JSON field is to be extracted.
    #[must_use]
    pub fn has_field(&self) -> bool {
        self.field.is_some()
    }
}

impl fmt::Display for SecretRef {
    /// Writes the `$S:` form; `parse(r.to_string()) == r` for every valid reference.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::PREFIX)?;
        if let Some(service) = &self.service {
            write!(f, "@{service}/")?;
        } else if let Some(env) = &self.environment {
            if let Some(project) = &self.project {
                f.write_str(project)?;
            }
            write!(f, ":{env}/")?;
        }
        f.write_str(&self.name)?;
        if let Some(field) = &self.field {
            write!(f, "/{field}")?;
        }
        Ok(())
    }
}
