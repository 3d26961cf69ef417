//! A section with no document, only actions run when named on the command line (`oidc`):
//! nothing to read, compare, export or write in the file. `plan` adds the named actions to it
//! like to any section. Pure.

use schemars::SchemaGenerator;
use serde_json::Value;

use super::{FileSection, SectionKind};
use crate::catalogue::{Release, SectionSpec};
use crate::config::diagnostic::SettingPath;
use crate::config::yaml::{Key, Node};
use crate::desired::DesiredSection;
use crate::diff::{self, SectionDiff};
use crate::live::{Fetched, LiveError, LiveSection, Read, Scope};
use crate::plan::{Context, SectionPlan};

/// Actions only.
#[derive(Debug)]
pub struct ActionsOnly;

impl SectionKind for ActionsOnly {
    fn verbs(&self, _: &SectionSpec) -> String {
        "actions only".to_owned()
    }

    fn in_file(&self) -> bool {
        false
    }

    fn schema(&self, _: &SectionSpec, _: &mut SchemaGenerator) -> Value {
        Value::Bool(false)
    }

    fn file_section<'n>(&self, spec: &SectionSpec, key: &Key, _: &'n Node) -> FileSection<'n> {
        let actions: Vec<String> = spec
            .actions
            .iter()
            .map(|a| format!("`--action {}.{}`", spec.key, a.name))
            .collect();
        FileSection {
            problems: vec![(
                key.pos.clone(),
                SettingPath::root().key(spec.key),
                format!(
                    "`{}` has no settings to manage; its actions run when named: {}",
                    spec.key,
                    actions.join(" or ")
                ),
            )],
            ..FileSection::default()
        }
    }

    fn reads(&self, _: &SectionSpec, _: Scope<'_>) -> Vec<Read> {
        Vec::new()
    }

    fn live(
        &self,
        spec: &'static SectionSpec,
        _: Vec<Fetched>,
        _: Option<Release>,
    ) -> Result<LiveSection, LiveError> {
        Ok(LiveSection::with_items(spec, Vec::new()))
    }

    fn diff<'a>(
        &self,
        desired: &'a DesiredSection,
        live: &LiveSection,
        _: Option<Release>,
    ) -> SectionDiff<'a> {
        diff::section_diff(desired, live)
    }

    fn plan(&self, d: &SectionDiff<'_>, _: &Context<'_>) -> SectionPlan {
        SectionPlan::new(d.spec)
    }

    fn export(&self, _: &LiveSection, _: &mut String) {}

    fn sandbox(&self) -> crate::sandbox::Handler {
        crate::sandbox::Handler::ACTIONS_ONLY
    }
}
