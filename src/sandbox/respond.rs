//! How the sandbox answers: JSON:API documents and error objects with
//! `Content-Type: application/vnd.api+json`, encoded as TFE (Rails) encodes them, with `<`,
//! `>` and `&` escaped as `\u003c`, `\u003e`, `\u0026` (the customization sample of seed 001);
//! plain JSON for the discovery document and the control plane. Builds responses only;
//! decides nothing.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::document::Problem;

pub(crate) const JSON_API: &str = "application/vnd.api+json";

/// A response with a body and a content type.
pub(crate) fn with_body(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A JSON:API document.
pub(crate) fn document(status: StatusCode, value: &Value) -> Response {
    with_body(status, JSON_API, rails_json(value))
}

/// Plain JSON (`application/json`): what is not a JSON:API document, such as the service
/// discovery document.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response {
    with_body(status, "application/json", rails_json(value))
}

/// A response without a body.
pub(crate) fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// A JSON:API error object with one error.
pub(crate) fn error(status: StatusCode, title: &str, detail: Option<&str>) -> Response {
    let mut entry = json!({ "status": status.as_str(), "title": title });
    if let Some(detail) = detail {
        entry["detail"] = Value::from(detail);
    }
    document(status, &json!({ "errors": [entry] }))
}

pub(crate) fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "unauthorized", None)
}

pub(crate) fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "not found", None)
}

pub(crate) fn bad_request(detail: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "bad request", Some(detail))
}

/// 405 with the `Allow` header.
pub(crate) fn method_not_allowed(allowed: &[&str]) -> Response {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed", None);
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// 422 with one entry per problem, each pointing at what it is about.
pub(crate) fn unprocessable(problems: &[Problem]) -> Response {
    let errors: Vec<Value> = problems
        .iter()
        .map(|p| {
            json!({
                "status": "422",
                "title": "invalid attribute",
                "detail": p.detail,
                "source": { "pointer": p.pointer },
            })
        })
        .collect();
    document(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({ "errors": errors }),
    )
}

/// The control plane's JSON.
pub(crate) fn control(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    with_body(status, "application/json", body)
}

/// The control plane's errors: `{"error": "..."}` plus details.
pub(crate) fn control_error(status: StatusCode, message: &str, problems: &[String]) -> Response {
    let mut value = json!({ "error": message });
    if !problems.is_empty() {
        value["problems"] = json!(problems);
    }
    control(status, &value)
}

/// 401 from the control plane: only the admin token opens it.
pub(crate) fn control_unauthorized() -> Response {
    let mut response = control_error(
        StatusCode::UNAUTHORIZED,
        "the control plane needs the admin token: Authorization: Bearer <TFE_TOKEN>",
        &[],
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// JSON with HTML-significant characters escaped, as Rails' `to_json` writes it.
fn rails_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, RailsFormatter);
    // Serialising a `Value` into memory cannot fail: its keys are strings.
    if serde::Serialize::serialize(value, &mut serializer).is_err() {
        return b"{}".to_vec();
    }
    out
}

struct RailsFormatter;

impl serde_json::ser::Formatter for RailsFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> std::io::Result<()>
    where
        W: ?Sized + std::io::Write,
    {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_like_rails_and_still_the_same_json() {
        let value = json!({"footer": "<p>a & b</p>", "plain": "é"});
        let bytes = rails_json(&value);
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            text.contains(r"\u003cp\u003ea \u0026 b\u003c/p\u003e"),
            "{text}"
        );
        let back: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(back, value);
    }
}
