//! The kinds of sections, and the one trait every stage calls instead of matching on a kind.
//!
//! A section is a settings document at a fixed path ([`Singleton`]: GET / PATCH), the data
//! retention policy ([`Policy`]: GET, 404 when unset / POST / DELETE), a collection of items
//! keyed by a natural name ([`Collection`]: a paginated list, POST / PATCH / DELETE per item),
//! or actions only ([`ActionsOnly`]: `oidc`). Each is one implementation of [`SectionKind`]:
//! how the section looks in the file and in the schema (config), what to read and how the
//! answers become live state (live, and apply's verification), what its differences mean
//! (diff), which calls reach the desired state (plan), how it is written back as YAML
//! (export), and how the emulator serves it (sandbox). Adding a kind is a new file here; no
//! stage changes.
//!
//! Pure: a kind describes reads and calls, `live` and `apply` carry them out.

mod actions;
mod collection;
mod policy;
mod singleton;

use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Release, SectionSpec};
use crate::config::diagnostic::SettingPath;
use crate::config::yaml::{Key, Node, Pos};
use crate::desired::DesiredSection;
use crate::diff::SectionDiff;
use crate::live::{Fetched, LiveError, LiveSection, Read, Scope};
use crate::plan::{Context, SectionPlan};

pub use actions::ActionsOnly;
pub use collection::{Collection, ItemProblem};
pub use policy::Policy;
pub use singleton::Singleton;

/// What one kind of section does at every stage.
pub trait SectionKind: Sync {
    /// The endpoint's verbs as the README lists them (`GET / PATCH`).
    fn verbs(&self, spec: &SectionSpec) -> String;

    /// The JSON:API id of a settings document (`general`); `None` for other kinds.
    fn document_id(&self) -> Option<&'static str> {
        None
    }

    /// Whether the section may appear in a desired-state file.
    fn in_file(&self) -> bool {
        true
    }

    /// How many path steps lie between the section's key and an item's attributes in the
    /// file: 0 for a document, 2 for a collection (`versions`, then the item's key).
    fn item_depth(&self) -> usize {
        0
    }

    /// config: the JSON Schema of the section's value in the file.
    fn schema(&self, spec: &SectionSpec, generator: &mut SchemaGenerator) -> Value;

    /// config: the section's items in the file, and what is wrong with its shape.
    fn file_section<'n>(&self, spec: &SectionSpec, key: &Key, node: &'n Node) -> FileSection<'n>;

    /// config: what is wrong with one item's attributes, from the file alone (beyond the
    /// schema and the cross-section rules).
    fn item_problems(&self, _spec: &SectionSpec, _item: &Map<String, Value>) -> Vec<ItemProblem> {
        Vec::new()
    }

    /// live: what to read for this scope.
    fn reads(&self, spec: &SectionSpec, scope: Scope<'_>) -> Vec<Read>;

    /// live (and apply's staleness check and verification): the answers to [`Self::reads`] as
    /// live state. The one place a response becomes a live item.
    ///
    /// # Errors
    /// An answer that is neither the section nor an explained absence.
    fn live(
        &self,
        spec: &'static SectionSpec,
        fetched: Vec<Fetched>,
        release: Option<Release>,
    ) -> Result<LiveSection, LiveError>;

    /// diff: what the differences between the files and the installation mean.
    fn diff<'a>(
        &self,
        desired: &'a DesiredSection,
        live: &LiveSection,
        release: Option<Release>,
    ) -> SectionDiff<'a>;

    /// plan: the calls that reach the desired state, item by item.
    fn plan(&self, diff: &SectionDiff<'_>, context: &Context<'_>) -> SectionPlan;

    /// export: the live section as desired-state YAML (the section's key included).
    fn export(&self, live: &LiveSection, out: &mut String);

    /// sandbox: how the emulator serves the section.
    fn sandbox(&self) -> crate::sandbox::Handler;
}

/// A section's value in the file, as its kind reads it: the items, `prune`, and problems with
/// the shape (reported before anything else is checked).
#[derive(Debug, Default)]
pub struct FileSection<'n> {
    pub items: Vec<FileItem<'n>>,
    /// Whether unlisted live items are deleted (a collection's `prune`, a policy's null).
    pub prune: bool,
    pub problems: Vec<(Pos, SettingPath, String)>,
}

/// One item in the file: its key, where it is, and its attribute entries.
#[derive(Debug)]
pub struct FileItem<'n> {
    pub key: Option<String>,
    pub pos: Pos,
    /// The path of the item's mapping (`smtp`, `terraform-versions.versions["1.9.8"]`).
    pub path: SettingPath,
    pub entries: &'n [(Key, Node)],
}

/// Why the API would refuse to delete an item (reference §2.1), found from the live item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Refusal {
    /// A version shipped with the installation (`official: true`).
    Official,
    /// Workspaces (or policy sets) use it (`usage` > 0).
    InUse { workspaces: u64 },
}
