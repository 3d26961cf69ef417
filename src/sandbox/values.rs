//! How the emulated API judges one attribute value, from the catalogue's row alone: JSON type
//! for the kind, `null` only where the catalogue accepts it, enum values, min/max, Go
//! durations, URL schemes, list shapes. Pure functions; the messages never quote the value
//! (it may be a secret).
//!
//! Deliberately *not* checked, because the API documentation's own samples would fail: PEM
//! shape (`"idp-cert": "SAMPLE-CERTIFICATE"`), e-mail syntax, and JSON-in-a-string
//! (`gcp-credentials` with `...` inside). A blank URL is accepted as "not set": the section's
//! completeness rules decide whether a value is needed.

use serde_json::{Map, Value};

use crate::catalogue::values::parse_duration;
use crate::catalogue::{AttrSpec, Kind, SectionSpec};

/// Why a value is refused: the text that follows the attribute's name in a 422 detail.
pub(crate) fn check(section: &SectionSpec, attr: &AttrSpec, value: &Value) -> Result<(), String> {
    if value.is_null() {
        // Null sets the attribute back to unset where the catalogue says the API takes it.
        return if attr.accepts_null() {
            Ok(())
        } else {
            Err("must not be null".to_owned())
        };
    }
    match attr.kind {
        Kind::Bool => {
            if !value.is_boolean() {
                return Err("must be a boolean".to_owned());
            }
        }
        Kind::Integer => check_integer(attr, value)?,
        Kind::Text | Kind::Html | Kind::Pem | Kind::Email | Kind::JsonText => {
            string(value)?;
        }
        Kind::Duration => {
            if parse_duration(string(value)?).is_none() {
                return Err(
                    "must be a duration: a decimal number and a unit suffix, like 2h or 90m"
                        .to_owned(),
                );
            }
        }
        Kind::Url { schemes, .. } => {
            let text = string(value)?;
            if !text.trim().is_empty() && !has_scheme(text, schemes) {
                let wanted = crate::catalogue::values::scheme_prefixes(schemes);
                return Err(format!(
                    "must be a URL starting with {}",
                    wanted.join(" or ")
                ));
            }
        }
        Kind::Enum(allowed) => {
            let text = string(value)?;
            if !allowed.contains(&text) {
                return Err(format!("must be one of: {}", allowed.join(", ")));
            }
        }
        Kind::List => {
            if !value.is_array() {
                return Err("must be a list".to_owned());
            }
            // The element shape is the typed struct's business: let serde judge it.
            let mut object = Map::new();
            object.insert(attr.name.to_owned(), value.clone());
            if let Err(e) = (section.parse)(Value::Object(object)) {
                return Err(format!("has an invalid entry ({e})"));
            }
        }
        Kind::Object => {
            if !value.is_object() {
                return Err("must be an object".to_owned());
            }
        }
        Kind::Sha256 => sha256(value)?,
        Kind::KeyedSet { fields, .. } => keyed_set(fields, value)?,
    }
    Ok(())
}

/// A read-only value the state may hold (a version's `usage`, `created-at`): its JSON type.
pub(crate) fn check_read_only(attr: &AttrSpec, value: &Value) -> Result<(), String> {
    match attr.kind {
        Kind::Integer if value.as_u64().is_some() => Ok(()),
        Kind::Integer => Err("must be a whole number, 0 or more".to_owned()),
        _ => string(value).map(|_| ()),
    }
}

fn sha256(value: &Value) -> Result<(), String> {
    let text = string(value)?;
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err("must be a SHA-256 checksum (64 hexadecimal characters)".to_owned())
    }
}

/// A list of objects with these fields; `url` and `sha` required, the others with the
/// documented defaults (`os` linux, `arch` amd64, applied when stored). Assumption: an empty
/// list is refused, as the API documents for its newest kind of tool version.
fn keyed_set(fields: &[(&str, Kind)], value: &Value) -> Result<(), String> {
    let Some(entries) = value.as_array() else {
        return Err("must be a list".to_owned());
    };
    if entries.is_empty() {
        return Err("must list at least one entry".to_owned());
    }
    for (index, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            return Err(format!("entry {index} must be an object"));
        };
        if let Some(unknown) = entry.keys().find(|k| !fields.iter().any(|(n, _)| n == k)) {
            return Err(format!("entry {index} has an unknown field {unknown:?}"));
        }
        for (name, kind) in fields {
            let Some(field) = entry.get(*name) else {
                if matches!(*name, "url" | "sha") {
                    return Err(format!("entry {index} needs {name}"));
                }
                continue;
            };
            let verdict = match kind {
                Kind::Sha256 => sha256(field),
                Kind::Url { schemes, .. } => string(field).and_then(|text| {
                    if has_scheme(text, schemes) {
                        Ok(())
                    } else {
                        Err("must be an https URL".to_owned())
                    }
                }),
                Kind::Enum(allowed) => string(field).and_then(|text| {
                    if allowed.contains(&text) {
                        Ok(())
                    } else {
                        Err(format!("must be one of: {}", allowed.join(", ")))
                    }
                }),
                _ => string(field).map(|_| ()),
            };
            verdict.map_err(|why| format!("entry {index}: {name} {why}"))?;
        }
    }
    Ok(())
}

fn string(value: &Value) -> Result<&str, String> {
    value.as_str().ok_or_else(|| "must be a string".to_owned())
}

fn check_integer(attr: &AttrSpec, value: &Value) -> Result<(), String> {
    // A JSON number with a fraction or an exponent is not an integer, even `30.0`.
    let number = match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => n,
        _ => return Err("must be an integer".to_owned()),
    };
    let too_small = |min: i64| match number.as_i64() {
        Some(n) => n < min,
        None => false, // above i64::MAX
    };
    let too_large = |max: i64| match number.as_i64() {
        Some(n) => n > max,
        None => true,
    };
    if let Some(min) = attr.min
        && too_small(min)
    {
        return Err(format!("must be at least {min}"));
    }
    if let Some(max) = attr.max
        && too_large(max)
    {
        return Err(format!("must be at most {max}"));
    }
    Ok(())
}

fn has_scheme(text: &str, schemes: &[&str]) -> bool {
    schemes.iter().any(|scheme| {
        let prefix = if *scheme == "mailto" {
            "mailto:".to_owned()
        } else {
            format!("{scheme}://")
        };
        // `get`, not indexing: the text is the caller's and may cut a character in two.
        text.len() > prefix.len()
            && text
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(&prefix))
            && !text.contains(char::is_whitespace)
    })
}

/// Whether a value counts as "not given": `null`, or a blank string.
pub(crate) fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

pub(crate) use crate::catalogue::values::camel_case;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;
    use serde_json::json;

    fn attr(section: &str, name: &str) -> (&'static SectionSpec, &'static AttrSpec) {
        let Some(spec) = catalogue::section(section) else {
            panic!("no section {section}");
        };
        let Some(attr) = spec.attribute(name) else {
            panic!("no attribute {section}.{name}");
        };
        (spec, attr)
    }

    fn verdict(section: &str, name: &str, value: &Value) -> Result<(), String> {
        let (spec, attr) = attr(section, name);
        check(spec, attr, value)
    }

    #[test]
    fn integers_are_checked_against_the_catalogue_range() {
        assert!(verdict("general", "api-rate-limit", &json!(30)).is_ok());
        assert_eq!(
            verdict("general", "api-rate-limit", &json!(29)),
            Err("must be at least 30".to_owned())
        );
        assert!(verdict("smtp", "port", &json!(0)).is_err());
        assert!(verdict("smtp", "port", &json!(70_000)).is_err());
        assert!(verdict("smtp", "port", &json!(25.0)).is_err());
        assert!(verdict("smtp", "port", &json!("25")).is_err());
    }

    #[test]
    fn kinds_are_checked() {
        assert!(verdict("general", "plan-timeout", &json!("1h30m")).is_ok());
        assert!(verdict("general", "plan-timeout", &json!("2 hours")).is_err());
        assert!(verdict("saml", "sso-endpoint-url", &json!("https://idp/sso")).is_ok());
        assert!(verdict("saml", "sso-endpoint-url", &json!("http://idp/sso")).is_err());
        assert!(verdict("saml", "sso-endpoint-url", &json!("")).is_ok());
        assert!(
            verdict(
                "customization",
                "internal-support-url",
                &json!("mailto:x@y")
            )
            .is_ok()
        );
        assert!(verdict("smtp", "auth", &json!("cram-md5")).is_err());
        assert!(verdict("smtp", "enabled", &Value::Null).is_err());
        assert!(verdict("smtp", "port", &Value::Null).is_ok());
        assert!(verdict("smtp", "host", &Value::Null).is_ok());
        assert!(verdict("customization", "avatar-sources", &Value::Null).is_err());
        assert!(verdict("scim", "site-admin-group-scim-id", &Value::Null).is_ok());
        assert!(
            verdict(
                "customization",
                "avatar-sources",
                &json!([{"source": "gravatar", "enabled": true}])
            )
            .is_ok()
        );
        assert!(
            verdict(
                "customization",
                "avatar-sources",
                &json!([{"source": "myspace", "enabled": true}])
            )
            .is_err()
        );
    }

    #[test]
    fn camel_case_follows_the_openapi_spelling() {
        assert_eq!(
            camel_case("delete-older-than-n-days"),
            "deleteOlderThanNDays"
        );
    }
}
