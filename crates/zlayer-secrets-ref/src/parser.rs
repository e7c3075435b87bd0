//! The nom grammar of references.
//!
//! ```text
//! reference   = "$secret://" environment "/" name [ "/" field ]
//!             / "$S:" "@" service "/" name [ "/" field ]
//!             / "$S:" [ project ] ":" environment "/" name [ "/" field ]
//!             / "$S:" name [ "/" field ]
//! ```
//!
//! Every part is a run of characters up to the next `/` or `:` (or the end), checked by
//! [`parts::check`]. The forms are told apart by their first characters: `$secret://`,
//! `$S:@`, a `:` before the first `/` of the body, and otherwise the deployment form. Once
//! the form is known every failure is final (`nom::Err::Failure`), so the error points at
//! the real problem instead of at the start of a form that was merely tried.

use nom::bytes::complete::{tag, take_till};
use nom::character::complete::char;
use nom::combinator::opt;
use nom::error::ErrorKind;
use nom::sequence::{preceded, terminated};
use nom::{IResult, Parser};

use crate::error::{ParseError, ParseErrorKind, Part};
use crate::parts::{self, is_separator};
use crate::secret_ref::{SecretRef, Syntax};

/// A parse failure: the rest of the input where it happened (a suffix of the whole input,
/// so the offset is the difference of lengths), and why.
struct Fail<'a> {
    at: &'a str,
    kind: ParseErrorKind,
}

impl<'a> nom::error::ParseError<&'a str> for Fail<'a> {
    /// The only nom primitives that can fail here are the prefix tags (every other step
    /// builds its own failure), so a primitive failure means "not a reference".
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        Fail {
            at: input,
            kind: ParseErrorKind::NotAReference,
        }
    }

    fn append(_input: &'a str, _kind: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, Fail<'a>>;

fn fail<T>(at: &str, kind: ParseErrorKind) -> Res<'_, T> {
    Err(nom::Err::Failure(Fail { at, kind }))
}

/// Checks the first `len` bytes of `input` as a `part`.
fn check(input: &str, len: usize, part: Part) -> Result<(), nom::Err<Fail<'_>>> {
    let run = input.get(..len).unwrap_or(input);
    parts::check(run, part).map_err(|(at, kind)| {
        nom::Err::Failure(Fail {
            at: input.get(at..).unwrap_or(input),
            kind,
        })
    })
}

/// One part: the characters up to the next separator, checked against the rules.
fn part<'a>(part: Part) -> impl Parser<&'a str, Output = &'a str, Error = Fail<'a>> {
    move |input: &'a str| -> Res<'a, &'a str> {
        let (rest, run) = take_till(is_separator)(input)?;
        check(input, run.len(), part)?;
        Ok((rest, run))
    }
}

/// The `/` that must follow `after` before the secret name.
fn slash_before_name(input: &str, after: Part) -> Res<'_, ()> {
    if let Some(rest) = input.strip_prefix('/') {
        return Ok((rest, ()));
    }
    match input.chars().next() {
        None => fail(input, ParseErrorKind::Missing(Part::Name)),
        Some(':') if after == Part::Environment => fail(input, ParseErrorKind::ExtraColon),
        Some(ch) => fail(input, ParseErrorKind::ForbiddenChar { part: after, ch }),
    }
}

/// `name [ "/" field ]` and the end of the input.
fn name_and_field(input: &str) -> Res<'_, (&str, Option<&str>)> {
    let (rest, name) = part(Part::Name).parse(input)?;
    let (rest, field) = opt(preceded(char('/'), part(Part::Field))).parse(rest)?;
    let last = if field.is_some() {
        Part::Field
    } else {
        Part::Name
    };
    match rest.chars().next() {
        None => Ok((rest, (name, field))),
        Some('/') => fail(rest, ParseErrorKind::ExtraSegment),
        Some(ch) => fail(rest, ParseErrorKind::ForbiddenChar { part: last, ch }),
    }
}

/// `environment "/" name [ "/" field ]`, after `$secret://`.
fn url_body(input: &str) -> Res<'_, SecretRef> {
    let (rest, environment) = part(Part::Environment).parse(input)?;
    let (rest, ()) =
        slash_before_name(rest, Part::Environment).map_err(|e| e.map(url_environment_colon))?;
    let (rest, (name, field)) = name_and_field(rest)?;
    let reference = SecretRef::for_environment(environment, name).with_syntax(Syntax::Url);
    Ok((rest, reference.with_optional_field(field)))
}

/// In the URL form a `:` after the environment is not a second colon but a forbidden
/// character: the URL form has no project.
fn url_environment_colon(fail: Fail<'_>) -> Fail<'_> {
    if fail.kind == ParseErrorKind::ExtraColon {
        Fail {
            kind: ParseErrorKind::ForbiddenChar {
                part: Part::Environment,
                ch: ':',
            },
            ..fail
        }
    } else {
        fail
    }
}

/// `"@" service "/" name [ "/" field ]`, after `$S:`.
fn service_form(input: &str) -> Res<'_, SecretRef> {
    let (rest, service) = preceded(char('@'), part(Part::Service)).parse(input)?;
    let (rest, ()) = slash_before_name(rest, Part::Service)?;
    let (rest, (name, field)) = name_and_field(rest)?;
    let reference = SecretRef::for_service(service, name);
    Ok((rest, reference.with_optional_field(field)))
}

/// `[ project ] ":" environment "/" name [ "/" field ]`, after `$S:`. It is chosen when a
/// `:` comes before the first `/`; until then it fails softly so the deployment form is
/// tried.
fn environment_form(input: &str) -> Res<'_, SecretRef> {
    let (rest, project) = terminated(take_till(is_separator), char(':')).parse(input)?;
    if !project.is_empty() {
        check(input, project.len(), Part::Project)?;
    }
    let (rest, environment) = part(Part::Environment).parse(rest)?;
    let (rest, ()) = slash_before_name(rest, Part::Environment)?;
    let (rest, (name, field)) = name_and_field(rest)?;
    let reference = if project.is_empty() {
        SecretRef::for_environment(environment, name)
    } else {
        SecretRef::for_project_environment(project, environment, name)
    };
    Ok((rest, reference.with_optional_field(field)))
}

/// `name [ "/" field ]`, after `$S:`.
fn deployment_form(input: &str) -> Res<'_, SecretRef> {
    let (rest, (name, field)) = name_and_field(input)?;
    Ok((rest, SecretRef::new(name).with_optional_field(field)))
}

/// The body after `$S:`: the first character and the position of the first `:` choose the
/// form.
fn short_body(input: &str) -> Res<'_, SecretRef> {
    if input.starts_with('@') {
        return service_form(input);
    }
    match environment_form(input) {
        Err(nom::Err::Error(_)) => deployment_form(input),
        decided => decided,
    }
}

/// Parses a whole reference.
pub(crate) fn reference(input: &str) -> Result<SecretRef, ParseError> {
    let parsed = if let Ok((body, _)) = tag::<_, _, Fail<'_>>(SecretRef::URL_PREFIX)(input) {
        url_body(body)
    } else if let Ok((body, _)) = tag::<_, _, Fail<'_>>(SecretRef::PREFIX)(input) {
        short_body(body)
    } else {
        return Err(ParseError::new(0, ParseErrorKind::NotAReference));
    };
    match parsed {
        Ok((_, reference)) => Ok(reference),
        Err(nom::Err::Error(fail) | nom::Err::Failure(fail)) => Err(ParseError::new(
            input.len().saturating_sub(fail.at.len()),
            fail.kind,
        )),
        // Only streaming parsers ask for more input; every parser here is a complete one.
        // Should one ever do so, the input ended too early.
        Err(nom::Err::Incomplete(_)) => Err(ParseError::new(
            input.len(),
            ParseErrorKind::Missing(Part::Name),
        )),
    }
}
