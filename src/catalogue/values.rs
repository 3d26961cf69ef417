//! The value types of attributes: string newtypes that carry a [`Kind`] (duration, PEM, URL,
//! e-mail, ...), the API's enums, `Nullable<T>` for attributes where `null` means something,
//! and how each kind shows up in the JSON Schema. Also the Go duration grammar the API uses.
//! Pure: parsing and schema fragments, no I/O.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use super::{Access, AttrSpec, AttrValue, Kind};

/// A Go duration as the API accepts it: one or more `<number><unit>` groups, units
/// `ns`, `us`/`µs`, `ms`, `s`, `m`, `h` (`90m`, `2h`, `1h30m`, `1.5h`). Go also accepts a
/// bare `0` and a sign; a timeout can be neither, so the tool refuses them.
pub const GO_DURATION_PATTERN: &str =
    r"^(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$";

/// Deserialises a present field: unlike `Option<T>`'s own impl, `null` is handed to `T`, so
/// that `Nullable<T>` can tell "absent" (the field default, `None`) from "null".
///
/// # Errors
/// Whatever `T` rejects.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// An attribute whose `null` is a value of its own (SCIM: unlink the group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nullable<T> {
    Null,
    Value(T),
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Null => serializer.serialize_none(),
            Nullable::Value(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Nullable::Null, Nullable::Value))
    }
}

impl<T: JsonSchema> JsonSchema for Nullable<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Nullable_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let inner = generator.subschema_for::<T>();
        schemars::json_schema!({ "anyOf": [inner, { "type": "null" }] })
    }
}

impl<T: AttrValue> AttrValue for Nullable<T> {
    const KIND: Kind = T::KIND;
    const NULLABLE: bool = true;
}

/// String newtypes: the type says the kind, the catalogue's annotation says the constraint.
macro_rules! text_value {
    ($(#[$meta:meta])* $name:ident => $kind:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        #[schemars(inline)]
        pub struct $name(pub String);

        impl AttrValue for $name {
            const KIND: Kind = $kind;
        }
    };
}

text_value!(
    /// A Go duration (`2h`, `90m`).
    Duration => Kind::Duration
);
text_value!(
    /// PEM-encoded text (a certificate or a key).
    Pem => Kind::Pem
);
text_value!(
    /// HTML shown in the TFE UI.
    Html => Kind::Html
);
text_value!(
    /// An `https://` URL; blank means "not set" (the API's own value for an unset URL).
    HttpsUrl => Kind::Url { schemes: &["https"], allow_blank: true }
);
text_value!(
    /// An `http://` or `https://` URL; blank means "use the default".
    WebUrl => Kind::Url { schemes: &["http", "https"], allow_blank: true }
);
text_value!(
    /// An `http(s)://` or `mailto:` URL; blank means "use the default".
    SupportUrl => Kind::Url { schemes: &["http", "https", "mailto"], allow_blank: true }
);
text_value!(
    /// An `https://` URL that must be given (a download location).
    RequiredHttpsUrl => Kind::Url { schemes: &["https"], allow_blank: false }
);
text_value!(
    /// A SHA-256 checksum, 64 hexadecimal characters.
    Sha256 => Kind::Sha256
);
text_value!(
    /// An e-mail address.
    Email => Kind::Email
);
text_value!(
    /// A string holding a JSON document.
    JsonText => Kind::JsonText
);

/// Enums of the API: the Rust variants map to the API's exact strings.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $(#[serde(rename = $wire)] $variant,)+
        }

        impl AttrValue for $name {
            const KIND: Kind = Kind::Enum(&[$($wire),+]);
        }
    };
}

string_enum!(
    /// SMTP authentication type.
    SmtpAuth { None = "none", Plain = "plain", Login = "login", Xoauth2 = "xoauth2" }
);
string_enum!(
    /// The SAML identity provider product.
    SamlProviderType { Okta = "okta", Entra = "entra", Saml = "saml", Unknown = "unknown" }
);
string_enum!(
    /// SAML signature and digest algorithms.
    SignatureMethod { Sha1 = "SHA1", Sha256 = "SHA256" }
);
string_enum!(
    /// A source of user avatars.
    AvatarSourceName { Saml = "saml", Gravatar = "gravatar" }
);

/// One entry of customization `avatar-sources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AvatarSource {
    /// Where the avatar comes from.
    pub source: AvatarSourceName,
    /// Whether this source is used.
    pub enabled: bool,
}

impl AttrValue for Vec<AvatarSource> {
    const KIND: Kind = Kind::List;
}

/// The longest duration Go holds: a `time.Duration` is an `int64` of nanoseconds (about
/// 2562047h47m). TFE parses these settings with Go, which refuses anything longer.
pub const MAX_DURATION_NANOS: u128 = i64::MAX as u128;

/// The camelCase spelling of a kebab-case attribute name, as the `OpenAPI` documents and one
/// documented sample write it (`delete-older-than-n-days` -> `deleteOlderThanNDays`).
#[must_use]
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Parses a Go duration into nanoseconds; `None` when it does not follow
/// [`GO_DURATION_PATTERN`] or is longer than [`MAX_DURATION_NANOS`]. Fractions are exact up
/// to the nanosecond, as in Go.
#[must_use]
pub fn parse_duration(text: &str) -> Option<u128> {
    parse_duration_syntax(text).filter(|nanos| *nanos <= MAX_DURATION_NANOS)
}

/// Whether the text is a duration by its form, but longer than Go (and so TFE) accepts.
#[must_use]
pub fn is_duration_too_long(text: &str) -> bool {
    parse_duration_syntax(text).is_some_and(|nanos| nanos > MAX_DURATION_NANOS)
}

/// The nanoseconds of a text of the duration grammar, saturating at `u128::MAX`.
fn parse_duration_syntax(text: &str) -> Option<u128> {
    let mut rest = text;
    let mut total: u128 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
            return None;
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        // Only digits: a parse fails on overflow alone, and that is "very long".
        let whole: u128 = if whole.is_empty() {
            0
        } else {
            whole.parse().unwrap_or(u128::MAX)
        };
        total = total.saturating_add(whole.saturating_mul(scale));
        if !fraction.is_empty() {
            // Only the digits that can matter at nanosecond precision (18 of them, times the
            // largest unit, stay far below u128::MAX).
            let digits = &fraction[..fraction.len().min(18)];
            let value: u128 = digits.parse().ok()?;
            let divisor = 10u128.checked_pow(u32::try_from(digits.len()).ok()?)?;
            total = total.saturating_add(value * scale / divisor);
        }
        rest = next;
    }
    Some(total)
}

/// Adds the catalogue's facts about one attribute to its property schema.
pub(super) fn annotate_property(property: &mut Value, attr: &AttrSpec) {
    let Some(object) = property.as_object_mut() else {
        return;
    };
    if !attr.nullable {
        strip_null(object);
    }
    let mut description = attr.doc.to_owned();
    let mut note = |text: &str| {
        description.push_str("\n\n");
        description.push_str(text);
    };
    match attr.access {
        Access::ReadWrite => {}
        Access::ReadOnly => {
            note("Read-only: returned by the API, not allowed in the file.");
            object.insert("readOnly".into(), Value::Bool(true));
            object.insert("not".into(), json!({}));
        }
        Access::WriteOnly => {
            note(
                "Write-only: the API never returns it, so it cannot be compared; it is sent \
                 with a change to this section, or always with `--push-secrets`.",
            );
            object.insert("writeOnly".into(), Value::Bool(true));
        }
        Access::Trigger => {
            note("Not persisted by the API: sent with a change to this section as a trigger.");
            object.insert("writeOnly".into(), Value::Bool(true));
        }
        Access::Outcome => {
            note("Not an API attribute: an outcome the tool reaches with an action.");
        }
    }
    if attr.sensitive {
        note("Sensitive: reference it as `${env:NAME}` or `${file:path}`.");
        object.insert("x-tfe-sensitive".into(), Value::Bool(true));
    }
    if let Some(target) = attr.alias_of {
        note(&format!("Deprecated: use `{target}`."));
        object.insert("deprecated".into(), Value::Bool(true));
    }
    if let Some(release) = attr.since {
        note(&format!("Available from TFE {release}."));
        object.insert("x-tfe-since".into(), Value::from(release.to_string()));
    }
    if let Kind::KeyedSet { key, .. } = attr.kind {
        note(&format!(
            "Compared as a set keyed by {}; always sent whole.",
            key.join(" and ")
        ));
        object.insert("minItems".into(), Value::from(1));
    }
    object.insert("description".into(), Value::from(description));
    if let Some(default) = attr.default {
        object.insert("default".into(), default.to_json());
    }
    if let Some(min) = attr.min {
        object.insert("minimum".into(), Value::from(min));
    }
    if let Some(max) = attr.max {
        object.insert("maximum".into(), Value::from(max));
    }
    if let Some(pattern) = kind_pattern(attr.kind) {
        object.insert("pattern".into(), Value::from(pattern));
    }
}

/// Adds the patterns of the fields' kinds to an object schema's properties (the objects of a
/// [`Kind::KeyedSet`], whose fields are not attributes of their own).
pub fn annotate_fields(schema: &mut Schema, fields: &[(&str, Kind)]) {
    let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
        return;
    };
    for (name, kind) in fields {
        if let Some(Value::Object(property)) = properties.get_mut(*name)
            && let Some(pattern) = kind_pattern(*kind)
        {
            property.insert("pattern".into(), Value::from(pattern));
        }
    }
}

/// How a URL's allowed starts are written for people: `https://`, `mailto:`.
#[must_use]
pub fn scheme_prefixes(schemes: &[&str]) -> Vec<String> {
    schemes
        .iter()
        .map(|s| {
            if *s == "mailto" {
                "mailto:".to_owned()
            } else {
                format!("{s}://")
            }
        })
        .collect()
}

/// The regular expression a string of this kind must match, if the kind has one.
#[must_use]
pub fn kind_pattern(kind: Kind) -> Option<String> {
    match kind {
        Kind::Duration => Some(GO_DURATION_PATTERN.to_owned()),
        Kind::Sha256 => Some("^[0-9a-fA-F]{64}$".to_owned()),
        // Blank is the API's value for an unset address.
        Kind::Email => Some(r"^(?:|[^@\s]+@[^@\s]+)$".to_owned()),
        Kind::Url {
            schemes,
            allow_blank,
        } => {
            let alternatives: Vec<String> = schemes
                .iter()
                .map(|s| {
                    if *s == "mailto" {
                        "mailto:\\S+".to_owned()
                    } else {
                        format!("{s}://\\S+")
                    }
                })
                .collect();
            let blank = if allow_blank { "|" } else { "" };
            Some(format!("^(?:{blank}{})$", alternatives.join("|")))
        }
        _ => None,
    }
}

/// Removes `null` from a generated property schema (absent, not null, means "unmanaged").
fn strip_null(object: &mut serde_json::Map<String, Value>) {
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let single = types.remove(0);
            object.insert("type".into(), single);
        }
    }
    for key in ["anyOf", "oneOf"] {
        let Some(Value::Array(options)) = object.get_mut(key) else {
            continue;
        };
        options.retain(|o| o.get("type").and_then(Value::as_str) != Some("null"));
        if options.len() == 1 {
            let only = options.remove(0);
            object.remove(key);
            if let Value::Object(inner) = only {
                for (k, v) in inner {
                    object.entry(k).or_insert(v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn durations_compare_as_durations() {
        assert_eq!(parse_duration("120m"), parse_duration("2h"));
        assert_eq!(parse_duration("1h30m"), parse_duration("90m"));
        assert_eq!(parse_duration("1.5h"), parse_duration("90m"));
        assert_eq!(parse_duration("24h"), Some(86_400_000_000_000));
        assert_eq!(parse_duration("1µs"), Some(1_000));
        assert_eq!(parse_duration(".5s"), Some(500_000_000));
    }

    #[test]
    fn durations_longer_than_go_holds_are_refused() {
        // 2562047h47m16.854775807s is i64::MAX nanoseconds.
        assert_eq!(
            parse_duration("2562047h47m16.854775807s"),
            Some(MAX_DURATION_NANOS)
        );
        assert_eq!(parse_duration("2562047h47m16.854775808s"), None);
        for long in [
            "2562048h",
            "99999999999999999999h",
            "999999999999999999999999999999999999999999h",
        ] {
            assert_eq!(parse_duration(long), None, "{long}");
            assert!(is_duration_too_long(long), "{long}");
        }
        assert!(!is_duration_too_long("2h"));
        assert!(!is_duration_too_long("two hours"));
        assert_eq!(
            parse_duration("1.123456789012345678901234567890h"),
            parse_duration("1.123456789012345678h")
        );
    }

    #[test]
    fn bad_durations_are_rejected() {
        for bad in ["", "2", "h", "2x", "-2h", "2h-", "1..5h", ".h", "2 h", "0"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }

    fn duration_regex() -> regex_lite::Regex {
        match regex_lite::Regex::new(GO_DURATION_PATTERN) {
            Ok(re) => re,
            Err(e) => panic!("bad pattern: {e}"),
        }
    }

    proptest! {
        /// The schema's pattern and the parser the diff uses accept the same strings (the
        /// length limit aside, which validation checks after the schema).
        #[test]
        fn pattern_and_parser_agree(text in "[0-9.]{0,12}(ns|us|µs|ms|s|m|h|x|)([0-9.]{0,3}(s|m|h|))?") {
            let re = duration_regex();
            prop_assert_eq!(re.is_match(&text), parse_duration_syntax(&text).is_some(), "{}", text);
            prop_assert_eq!(
                parse_duration(&text).is_some(),
                re.is_match(&text) && !is_duration_too_long(&text),
                "{}",
                text
            );
        }
    }

    #[test]
    fn url_patterns_follow_the_schemes() {
        let https = kind_pattern(Kind::Url {
            schemes: &["https"],
            allow_blank: false,
        });
        assert_eq!(
            kind_pattern(Kind::Pem),
            None,
            "PEM is checked by a warning, not the schema"
        );
        assert_eq!(https.as_deref(), Some("^(?:https://\\S+)$"));
        let web = kind_pattern(Kind::Url {
            schemes: &["http", "https", "mailto"],
            allow_blank: true,
        });
        assert_eq!(
            web.as_deref(),
            Some("^(?:|http://\\S+|https://\\S+|mailto:\\S+)$")
        );
    }
}
