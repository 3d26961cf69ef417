//! The JSON Schema of the desired-state file, generated from the catalogue's typed structs
//! (schemars) and annotated from its attribute rows. `schema/tfe-admin.schema.json` is these
//! bytes; a test keeps them equal. Pure.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::catalogue;

/// The schema as a JSON value: each section's kind gives the schema of its value.
#[must_use]
pub fn desired_state_schema() -> Value {
    let mut generator = SchemaSettings::draft2020_12().into_generator();
    let mut properties = Map::new();
    for section in catalogue::file_sections() {
        let property = section.kind.schema(section, &mut generator);
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

/// The schema as the committed file has it: pretty JSON with a final newline.
#[must_use]
pub fn desired_state_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&desired_state_schema()).unwrap_or_default();
    text.push('\n');
    text
}
