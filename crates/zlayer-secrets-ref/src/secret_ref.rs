//! [`SecretRef`], the parsed form of a reference, and [`Syntax`], the spelling it was
//! written in.

use alloc::string::{String, ToString};
use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;

use crate::error::ParseError;
use crate::parser;

/// Which of the two spellings a reference is written in.
///
/// Only environment-scoped references without a project can be written in the URL form;
/// for every other shape [`SecretRef::syntax`] is [`Syntax::Short`] whatever was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Syntax {
    /// The `$S:` forms (`$S:name`, `$S:@service/name`, `$S::env/name`, ...).
    #[default]
    Short,
    /// The URL form `$secret://env/KEY[/field]`.
    Url,
}

/// A parsed secret reference.
///
/// Exactly one of these shapes holds:
/// - deployment-level: `service`, `project` and `environment` are `None`;
/// - service-scoped: `service` is `Some`, `project` and `environment` are `None`;
/// - environment-scoped: `environment` is `Some` (and `project` optionally), `service` is
///   `None`.
///
/// Every part that is `Some` holds 1 to [`MAX_PART_LEN`](crate::MAX_PART_LEN) bytes of
/// characters allowed by [`is_allowed_char`](crate::is_allowed_char), and is not `.` or
/// `..`. Values built by [`parse`](Self::parse) always do; a value whose public fields were
/// set by hand to something else displays as text that does not parse back to it.
///
/// # Round trip
///
/// For every accepted input `x`, `SecretRef::parse(x).unwrap().to_string() == x`, and for
/// every value `r` that [`parse`](Self::parse) can produce, `parse(&r.to_string()) ==
/// Some(r)`. To keep the first law for the URL form, a value remembers its [`Syntax`] in a
/// private marker:
/// - the marker is **not** part of equality or hashing: `$secret://prod/KEY` and
///   `$S::prod/KEY` name the same secret and compare equal; only their `Display` differs;
/// - the marker is not serialised (the JSON shape is the original one); a deserialised value
///   displays in the `$S:` syntax;
/// - the constructors make `$S:` values; [`with_syntax`](Self::with_syntax) asks for the URL
///   form.
#[derive(Debug, Clone)]
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
    /// The spelling asked for; see [`SecretRef::syntax`].
    #[cfg_attr(feature = "serde", serde(skip))]
    syntax: Syntax,
}

impl SecretRef {
    /// The prefix of the `$S:` forms.
    pub const PREFIX: &'static str = "$S:";

    /// The prefix of the URL form `$secret://env/KEY[/field]`.
    pub const URL_PREFIX: &'static str = "$secret://";

    /// A deployment-level reference, `$S:name`.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            service: None,
            project: None,
            environment: None,
            field: None,
            syntax: Syntax::Short,
        }
    }

    /// A service-scoped reference, `$S:@service/name`.
    #[must_use]
    pub fn for_service(service: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            service: Some(service.into()),
            ..Self::new(name)
        }
    }

    /// An environment-scoped reference without a project, `$S::environment/name`.
    #[must_use]
    pub fn for_environment(environment: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            environment: Some(environment.into()),
            ..Self::new(name)
        }
    }

    /// A project-scoped environment reference, `$S:project:environment/name`.
    #[must_use]
    pub fn for_project_environment(
        project: impl Into<String>,
        environment: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            project: Some(project.into()),
            environment: Some(environment.into()),
            ..Self::new(name)
        }
    }

    /// The same reference with a JSON field to extract, `.../name/field`.
    #[must_use]
    pub fn with_field(self, field: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            ..self
        }
    }

    pub(crate) fn with_optional_field(self, field: Option<&str>) -> Self {
        Self {
            field: field.map(ToString::to_string),
            ..self
        }
    }

    /// The same reference, to be displayed in `syntax` where its shape allows (see
    /// [`syntax`](Self::syntax)). Equality is not affected.
    #[must_use]
    pub fn with_syntax(self, syntax: Syntax) -> Self {
        Self { syntax, ..self }
    }

    /// The syntax `Display` writes: [`Syntax::Url`] if it was parsed from (or asked for with
    /// [`with_syntax`](Self::with_syntax)) the URL form and is still environment-scoped
    /// without a project; [`Syntax::Short`] otherwise.
    #[must_use]
    pub fn syntax(&self) -> Syntax {
        if self.syntax == Syntax::Url
            && self.environment.is_some()
            && self.project.is_none()
            && self.service.is_none()
        {
            Syntax::Url
        } else {
            Syntax::Short
        }
    }

    /// Parses a reference in any form; `None` if `value` is not a well-formed reference.
    ///
    /// Use [`try_parse`](Self::try_parse) to learn where and why a value was refused.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        Self::try_parse(value).ok()
    }

    /// Parses a reference in any form, saying where and why a malformed one was refused.
    ///
    /// An input that starts with neither `$S:` nor `$secret://` gives an error whose
    /// [`is_not_a_reference`](ParseError::is_not_a_reference) is `true`.
    ///
    /// ```
    /// use zlayer_secrets_ref::{ParseErrorKind, Part, SecretRef};
    ///
    /// let r = SecretRef::try_parse("$S:@api/db/password")?;
    /// assert_eq!(r.service.as_deref(), Some("api"));
    ///
    /// let err = SecretRef::try_parse("$S:@api/").unwrap_err();
    /// assert_eq!((err.offset(), err.kind()), (8, ParseErrorKind::Empty(Part::Name)));
    /// # Ok::<(), zlayer_secrets_ref::ParseError>(())
    /// ```
    pub fn try_parse(value: &str) -> Result<Self, ParseError> {
        parser::reference(value)
    }

    /// Whether `value` starts like a `$S:` reference (it may still be malformed).
    ///
    /// This is the original check and ignores the URL form; see
    /// [`looks_like_reference`](Self::looks_like_reference).
    #[must_use]
    pub fn is_secret_ref(value: &str) -> bool {
        value.starts_with(Self::PREFIX)
    }

    /// Whether `value` starts like a reference in either syntax (`$S:` or `$secret://`): if
    /// so and [`try_parse`](Self::try_parse) fails, it is a malformed reference rather than
    /// a plain value. Prefixes are case-sensitive: `$s:x` is a plain value.
    #[must_use]
    pub fn looks_like_reference(value: &str) -> bool {
        value.starts_with(Self::PREFIX) || value.starts_with(Self::URL_PREFIX)
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

    /// The five public fields, which are what equality and hashing look at.
    #[allow(clippy::type_complexity)] // a private tuple, named by its use right here
    fn key(&self) -> (&str, Option<&str>, Option<&str>, Option<&str>, Option<&str>) {
        (
            &self.name,
            self.service.as_deref(),
            self.project.as_deref(),
            self.environment.as_deref(),
            self.field.as_deref(),
        )
    }
}

/// Equality looks at the five public fields only, not at the [`Syntax`] marker: two
/// references to the same secret are equal however they were written.
impl PartialEq for SecretRef {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for SecretRef {}

/// Hashing agrees with equality: the [`Syntax`] marker is left out.
impl Hash for SecretRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl fmt::Display for SecretRef {
    /// Writes the reference in its [`syntax`](Self::syntax); for every value `parse` can
    /// produce, the text parses back to an equal value (and is the text it was parsed from).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.syntax() == Syntax::Url {
            f.write_str(Self::URL_PREFIX)?;
            if let Some(env) = &self.environment {
                write!(f, "{env}/")?;
            }
        } else {
            f.write_str(Self::PREFIX)?;
            if let Some(service) = &self.service {
                write!(f, "@{service}/")?;
            } else if let Some(env) = &self.environment {
                if let Some(project) = &self.project {
                    f.write_str(project)?;
                }
                write!(f, ":{env}/")?;
            }
        }
        f.write_str(&self.name)?;
        if let Some(field) = &self.field {
            write!(f, "/{field}")?;
        }
        Ok(())
    }
}

/// Same as [`SecretRef::try_parse`].
impl FromStr for SecretRef {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_parse(s)
    }
}
