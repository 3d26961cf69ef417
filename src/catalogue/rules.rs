//! The API's completeness rules ("if `enabled` is true, all remaining attributes must have
//! valid values"), written once and evaluated over a view of the settings.
//!
//! Offline (`validate`) the view holds only what the file says, so an attribute the file does
//! not mention is [`Known::Unknown`] and cannot break a rule: the live value may satisfy it.
//! At plan time the view is the file laid over the live state, and the same rules decide.
//! Pure functions; no I/O.

use serde_json::Value;

/// What a view knows of an attribute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Known<'a> {
    /// The value the section will have.
    Set(&'a Value),
    /// Not known here (not in the file offline; write-only at plan time).
    Unknown,
}

impl<'a> Known<'a> {
    /// Set to a value that counts as "not given" by the API: null, `""` or whitespace.
    #[must_use]
    pub fn is_blank(self) -> bool {
        match self {
            Known::Set(Value::Null) => true,
            Known::Set(Value::String(s)) => s.trim().is_empty(),
            _ => false,
        }
    }

    #[must_use]
    pub fn is_true(self) -> bool {
        matches!(self, Known::Set(Value::Bool(true)))
    }

    #[must_use]
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Known::Set(Value::String(s)) => Some(s),
            _ => None,
        }
    }
}

/// The settings as a rule sees them.
pub trait AttrView {
    /// The value of `section.attr`.
    fn get(&self, section: &str, attr: &str) -> Known<'_>;
}

/// A broken rule, reported at the attribute it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub section: &'static str,
    pub attr: &'static str,
    pub message: String,
}

/// The rules of a section that has none.
#[must_use]
pub fn none(_: &dyn AttrView) -> Vec<Violation> {
    Vec::new()
}

/// `enabled: true` needs each of `required` to have a value.
#[must_use]
pub fn required_when_enabled(
    view: &dyn AttrView,
    section: &'static str,
    required: &[&'static str],
) -> Vec<Violation> {
    if !view.get(section, "enabled").is_true() {
        return Vec::new();
    }
    required
        .iter()
        .filter(|attr| view.get(section, attr).is_blank())
        .map(|attr| Violation {
            section,
            attr,
            message: format!("must have a value when `{section}.enabled` is true"),
        })
        .collect()
}

/// When `attr` is one of `values` (and, for an `enabled` section, it is enabled), each of
/// `required` must have a value.
#[must_use]
pub fn required_when(
    view: &dyn AttrView,
    section: &'static str,
    attr: &'static str,
    values: &[&str],
    required: &[&'static str],
) -> Vec<Violation> {
    let Some(value) = view.get(section, attr).as_str() else {
        return Vec::new();
    };
    if !values.contains(&value) {
        return Vec::new();
    }
    required
        .iter()
        .filter(|r| view.get(section, r).is_blank())
        .map(|r| Violation {
            section,
            attr: r,
            message: format!("must have a value when `{attr}` is `{value}`"),
        })
        .collect()
}

/// When the boolean `attr` is true, each of `required` must have a value.
#[must_use]
pub fn required_when_true(
    view: &dyn AttrView,
    section: &'static str,
    attr: &'static str,
    required: &[&'static str],
) -> Vec<Violation> {
    if !view.get(section, attr).is_true() {
        return Vec::new();
    }
    required
        .iter()
        .filter(|r| view.get(section, r).is_blank())
        .map(|r| Violation {
            section,
            attr: r,
            message: format!("must have a value when `{attr}` is true"),
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A view over literal values, for the sections' rule tests.
    pub(crate) struct MapView(pub HashMap<(&'static str, &'static str), Value>);

    impl AttrView for MapView {
        fn get(&self, section: &str, attr: &str) -> Known<'_> {
            self.0
                .iter()
                .find(|((s, a), _)| *s == section && *a == attr)
                .map_or(Known::Unknown, |(_, v)| Known::Set(v))
        }
    }

    pub(crate) fn view(entries: &[(&'static str, &'static str, Value)]) -> MapView {
        MapView(
            entries
                .iter()
                .map(|(s, a, v)| ((*s, *a), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn unknown_values_never_break_a_rule() {
        let v = view(&[("smtp", "enabled", Value::Bool(true))]);
        assert!(required_when_enabled(&v, "smtp", &["host"]).is_empty());
    }

    #[test]
    fn blank_values_break_it_only_when_enabled() {
        let v = view(&[
            ("smtp", "enabled", Value::Bool(true)),
            ("smtp", "host", Value::from("  ")),
        ]);
        let found = required_when_enabled(&v, "smtp", &["host"]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].attr, "host");
        let off = view(&[
            ("smtp", "enabled", Value::Bool(false)),
            ("smtp", "host", Value::from("")),
        ]);
        assert!(required_when_enabled(&off, "smtp", &["host"]).is_empty());
    }
}
