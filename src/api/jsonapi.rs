//! JSON:API envelopes: the `data` of a settings document and the `errors` array of a
//! failure. Pure parsing; unknown members are ignored, missing ones are `None`.

use serde_json::{Map, Value};

/// One JSON:API error object.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorObject {
    pub status: Option<String>,
    pub title: Option<String>,
    pub detail: Option<String>,
    /// `source.pointer`, e.g. `/data/attributes/api-rate-limit`.
    pub pointer: Option<String>,
}

impl ErrorObject {
    /// The attribute a pointer names (`/data/attributes/<name>`), if it names one.
    #[must_use]
    pub fn attribute(&self) -> Option<&str> {
        self.pointer
            .as_deref()?
            .strip_prefix("/data/attributes/")
            .map(|rest| rest.split('/').next().unwrap_or(rest))
    }

    /// `detail`, else `title`, else a generic text.
    #[must_use]
    pub fn message(&self) -> String {
        match (&self.title, &self.detail) {
            (Some(title), Some(detail)) if !detail.is_empty() => format!("{title}: {detail}"),
            (_, Some(detail)) if !detail.is_empty() => detail.clone(),
            (Some(title), _) => title.clone(),
            _ => "no detail given".to_owned(),
        }
    }
}

/// The error objects of a body (`{"errors": [...]}`), tolerant of odd shapes.
#[must_use]
pub fn errors(body: &Value) -> Vec<ErrorObject> {
    let Some(items) = body.get("errors").and_then(Value::as_array) else {
        return Vec::new();
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => ErrorObject {
                detail: Some(s.clone()),
                ..ErrorObject::default()
            },
            _ => ErrorObject {
                status: text(item.get("status")),
                title: text(item.get("title")),
                detail: text(item.get("detail")),
                pointer: text(item.pointer("/source/pointer")),
            },
        })
        .collect()
}

/// A document's `data`: its id, type and attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: Option<String>,
    pub kind: Option<String>,
    pub attributes: Map<String, Value>,
}

/// The `data` of a single-resource document, if the body is one.
#[must_use]
pub fn document(body: &Value) -> Option<Document> {
    let data = body.get("data")?.as_object()?;
    Some(Document {
        id: data.get("id").and_then(Value::as_str).map(str::to_owned),
        kind: data.get("type").and_then(Value::as_str).map(str::to_owned),
        attributes: data
            .get("attributes")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

/// A request body: `{"data": {"type": ..., "attributes": {...}}}`.
#[must_use]
pub fn request(json_type: &str, attributes: Map<String, Value>) -> Value {
    let mut data = Map::new();
    data.insert("type".to_owned(), Value::from(json_type));
    data.insert("attributes".to_owned(), Value::Object(attributes));
    serde_json::json!({ "data": data })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_keep_pointer_and_detail() {
        let body = json!({"errors": [{"status": "422", "title": "invalid attribute",
            "detail": "Api rate limit must be at least 30",
            "source": {"pointer": "/data/attributes/api-rate-limit"}}, "plain text"]});
        let found = errors(&body);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].attribute(), Some("api-rate-limit"));
        assert_eq!(
            found[0].message(),
            "invalid attribute: Api rate limit must be at least 30"
        );
        assert_eq!(found[1].message(), "plain text");
        assert!(errors(&json!({"data": {}})).is_empty());
    }

    #[test]
    fn documents_tolerate_missing_members() {
        let doc = document(&json!({"data": {"id": "smtp", "type": "smtp-settings"}}));
        assert_eq!(doc.map(|d| d.attributes.len()), Some(0));
        assert_eq!(document(&json!({"data": null})), None);
    }
}
