//! The JSON Schema of the desired-state file, generated from the catalogue's typed structs
//! (schemars) and annotated from its attribute rows. `schema/tfe-admin.schema.json` is these
//! bytes; a test keeps them equal. Pure.

use std::fmt::Write as _;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::catalogue::{self, Shape};

/// The schema as a JSON value.
#[must_use]
pub fn desired_state_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut properties = Map::new();
    for section in catalogue::file_sections() {
        let reference = (section.schema)(&mut generator).to_value();
        let property = if matches!(section.shape, Shape::Policy) {
            // Object-or-null on the definition itself (its object keywords ignore null), not
            // an anyOf: errors inside the policy keep their own paths.
            allow_null_definition(&mut generator, &reference);
            json!({
                "description": format!("{}\n\n`null` means: no policy (deleted if one exists).", section.doc),
                "allOf": [reference],
            })
        } else {
            let mut description = section.doc.to_owned();
            if let Some(release) = section.since {
                let _ = write!(description, "\n\nAvailable from TFE {release}.");
            }
            json!({ "description": description, "allOf": [reference] })
        };
        properties.insert(section.key.to_owned(), property);
    }
    let definitions: Map<String, Value> = generator.take_definitions(true);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tfe-admin desired state",
        "description": "The site-admin settings of a Terraform Enterprise installation. \
                        Absent sections and attributes are unmanaged. String values may \
                        reference secrets as ${env:NAME} or ${file:relative/path}.",
        "type": "object",
        "additionalProperties": false,
        "properties": properties,
        "$defs": definitions,
    })
}

/// Makes the definition a `$ref` points at accept `null` as well as an object.
fn allow_null_definition(generator: &mut schemars::SchemaGenerator, reference: &Value) {
    let Some(name) = reference
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/$defs/"))
    else {
        return;
    };
    if let Some(definition) = generator.definitions_mut().get_mut(name) {
        definition["type"] = json!(["object", "null"]);
    }
}

/// The schema as the committed file has it: pretty JSON with a final newline.
#[must_use]
pub fn desired_state_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&desired_state_schema()).unwrap_or_default();
    text.push('\n');
    text
}
