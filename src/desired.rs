//! The desired state: what the (merged, interpolated, validated) files ask for, section by
//! section in catalogue order, item by item within a section (a settings document is one
//! unkeyed item; a collection has one item per natural key). Produced by `config`, read by
//! every later stage. Values of sensitive attributes never reach `Debug` output.

use std::fmt;

use serde_json::Value;

use crate::catalogue::{AttrSpec, SectionSpec};
use crate::config::yaml::Pos;

/// Everything the files manage. Sections and attributes that are absent are unmanaged.
#[derive(Debug, Default)]
pub struct DesiredState {
    pub sections: Vec<DesiredSection>,
}

impl DesiredState {
    /// The section with this key, if the files manage it.
    #[must_use]
    pub fn section(&self, key: &str) -> Option<&DesiredSection> {
        self.sections.iter().find(|s| s.spec.key == key)
    }

    /// The values that must never be printed: those of sensitive attributes and every value
    /// that came from a reference. Server text is redacted of them ([`crate::redact`]).
    #[must_use]
    pub fn secrets(&self) -> Vec<String> {
        self.sections
            .iter()
            .flat_map(|s| &s.items)
            .flat_map(|i| &i.attributes)
            .filter(|a| a.is_sensitive())
            .filter_map(|a| match &a.value {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .collect()
    }

    /// How many attributes the files set, over all sections and items.
    #[must_use]
    pub fn attribute_count(&self) -> usize {
        self.sections
            .iter()
            .flat_map(|s| &s.items)
            .map(|i| i.attributes.len())
            .sum()
    }
}

/// One managed section.
#[derive(Debug)]
pub struct DesiredSection {
    pub spec: &'static SectionSpec,
    /// Where the section's key was written.
    pub pos: Pos,
    /// The items the files list: the one unkeyed item of a settings document or policy, none
    /// for `data-retention-policy: null`, one per key of a collection.
    pub items: Vec<DesiredItem>,
    /// Whether live items the files do not list are deleted: a collection's `prune: true`, a
    /// policy's `null`.
    pub prune: bool,
}

impl DesiredSection {
    /// The item with this key (`None`: the section's only document).
    #[must_use]
    pub fn item(&self, key: Option<&str>) -> Option<&DesiredItem> {
        self.items.iter().find(|i| i.key.as_deref() == key)
    }

    /// An attribute of the unkeyed item (a settings document's attribute), if the files set it.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&DesiredAttr> {
        self.item(None).and_then(|i| i.attribute(name))
    }
}

/// One managed item: a settings document, a policy, a tool version.
#[derive(Debug)]
pub struct DesiredItem {
    /// The natural key (`"1.9.8"`); `None` for a section's only document.
    pub key: Option<String>,
    /// Where the item was written (its key, or the section's key).
    pub pos: Pos,
    pub attributes: Vec<DesiredAttr>,
}

impl DesiredItem {
    /// The attribute with this API name, if the files set it.
    #[must_use]
    pub fn attribute(&self, name: &str) -> Option<&DesiredAttr> {
        self.attributes.iter().find(|a| a.spec.name == name)
    }
}

/// One managed attribute.
pub struct DesiredAttr {
    pub spec: &'static AttrSpec,
    /// The value to reach, after interpolation.
    pub value: Value,
    /// Where the value was written.
    pub pos: Pos,
    /// The text before interpolation (`${env:SMTP_PASSWORD}`), when it had references: what a
    /// saved plan keeps instead of the value.
    pub template: Option<String>,
    /// The absolute directory of the file that set it: where its `${file:...}` references
    /// resolve (set by `config::load`).
    pub base_dir: Option<std::path::PathBuf>,
}

impl DesiredAttr {
    /// Whether the value must never be shown: a sensitive attribute, or a value that came from
    /// a `${env:...}` / `${file:...}` reference, whatever the attribute (`footer:
    /// ${env:TFE_TOKEN}` must not print the token).
    #[must_use]
    pub fn is_sensitive(&self) -> bool {
        self.spec.sensitive
            || self
                .template
                .as_deref()
                .is_some_and(crate::config::interpolate::has_reference)
    }
}

impl fmt::Debug for DesiredAttr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("DesiredAttr");
        s.field("name", &self.spec.name);
        if self.spec.sensitive || self.template.is_some() {
            s.field("value", &"(sensitive)");
        } else {
            s.field("value", &self.value);
        }
        s.field("pos", &self.pos)
            .field("template", &self.template)
            .field("base_dir", &self.base_dir)
            .finish()
    }
}
