//! `validate --list-references`: every `${env:...}` and `${file:...}` reference of the files,
//! where it is written, and whether it resolves now, so that a CI job can pass exactly those
//! secrets through and fail early naming the missing ones. Works on the parsed trees (never
//! the text), and resolves each reference only to drop its value: nothing here returns or
//! prints one.
//! Reads the files and the referenced variables and files; never the network.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::diagnostic::{Diagnostic, Reason, SettingPath};
use super::interpolate::{self, EnvLookup, Reference};
use super::yaml::{Node, NodeValue, Pos};

/// One reference at one place in the files.
#[derive(Debug, Clone)]
pub struct ReferenceUse {
    pub reference: Reference,
    /// Where the value holding it is written.
    pub pos: Pos,
    /// The setting it is the value of (`smtp.password`).
    pub path: SettingPath,
    /// Why it does not resolve (`None`: it does). Names the reference, never a value.
    pub problem: Option<String>,
}

/// What the files reference, and what stood in the way of reading them.
#[derive(Debug, Default)]
pub struct Listing {
    /// In the order of the merged files.
    pub references: Vec<ReferenceUse>,
    /// Files that cannot be read or parsed, malformed references.
    pub diagnostics: Vec<Diagnostic>,
}

impl Listing {
    /// The references that do not resolve.
    pub fn unresolved(&self) -> impl Iterator<Item = &ReferenceUse> {
        self.references.iter().filter(|r| r.problem.is_some())
    }
}

/// Lists the references of every file, in the order given. A reference that a later file
/// overrides is listed too: `load` resolves each file's references before merging, so
/// `validate`, `plan` and `apply` need it as well.
#[must_use]
pub fn list(paths: &[PathBuf], env: EnvLookup<'_>) -> Listing {
    let mut listing = Listing::default();
    for path in paths {
        let name: Arc<str> = Arc::from(path.display().to_string());
        let Some(root) = super::read_root(path, &name, &mut listing.diagnostics) else {
            continue;
        };
        // A `${file:}` path is relative to the file that holds the reference.
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        walk(
            &root,
            &SettingPath::root(),
            &mut |node, path, text| match interpolate::references(text) {
                Ok(found) => {
                    for reference in found {
                        let problem = interpolate::check(&reference, dir, env)
                            .err()
                            .map(|e| e.to_string());
                        listing.references.push(ReferenceUse {
                            reference,
                            pos: node.pos.clone(),
                            path: path.clone(),
                            problem,
                        });
                    }
                }
                Err(problem) => {
                    let problem =
                        Diagnostic::error(&node.pos, path.clone(), Reason::Reference(problem));
                    listing.diagnostics.push(problem);
                }
            },
        );
    }
    listing
}

/// Calls `visit` with every string value of the tree that may hold a reference.
fn walk(node: &Node, path: &SettingPath, visit: &mut dyn FnMut(&Node, &SettingPath, &str)) {
    match &node.value {
        NodeValue::Str(text) if text.value.contains('$') => visit(node, path, &text.value),
        NodeValue::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &path.index(i), visit);
            }
        }
        NodeValue::Map(entries) => {
            for (key, value) in entries {
                walk(value, &path.key(&key.name), visit);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            panic!("mkdir: {e}");
        }
        if let Err(e) = std::fs::write(&path, text) {
            panic!("write: {e}");
        }
        path
    }

    #[test]
    fn every_files_references_are_listed_with_whether_they_resolve() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let base = write(
            dir.path(),
            "base.yaml",
            "smtp:\n  password: ${env:OVERRIDDEN}\n  username: ${env:SET}\n\
             saml:\n  private-key: ${file:key.pem}\n  idp-cert: ${file:gone.pem}\n\
             customization:\n  footer: \"$${env:ESCAPED}\"\n",
        );
        write(dir.path(), "key.pem", "s3cr3t\n");
        let overlay = write(
            dir.path(),
            "overlays/prod.yaml",
            "smtp:\n  password: ${env:UNSET}\n",
        );
        let env = |name: &str| (name == "SET").then(|| "s3cr3t".to_owned());
        let listing = list(&[base, overlay], &env);
        assert!(listing.diagnostics.is_empty(), "{:?}", listing.diagnostics);
        let shown: Vec<String> = listing
            .references
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r.pos.file.rsplit('/').next().unwrap_or_default(),
                    r.path,
                    r.reference,
                    r.problem.is_none()
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                "base.yaml smtp.password ${env:OVERRIDDEN} false",
                "base.yaml smtp.username ${env:SET} true",
                "base.yaml saml.private-key ${file:key.pem} true",
                "base.yaml saml.idp-cert ${file:gone.pem} false",
                "prod.yaml smtp.password ${env:UNSET} false",
            ]
        );
        for r in &listing.references {
            assert!(
                !r.problem.as_deref().unwrap_or_default().contains("s3cr3t"),
                "{r:?}"
            );
        }
        assert_eq!(listing.unresolved().count(), 3);
    }

    #[test]
    fn unreadable_files_and_malformed_references_are_diagnostics() {
        let dir = match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        };
        let bad = write(
            dir.path(),
            "bad.yaml",
            "smtp:\n  password: \"p4ss${w0rd\"\n",
        );
        let missing = dir.path().join("missing.yaml");
        let listing = list(&[bad, missing], &|_| None);
        assert!(listing.references.is_empty());
        let messages: Vec<String> = listing
            .diagnostics
            .iter()
            .map(|d| d.reason.to_string())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages.iter().all(|m| !m.contains("w0rd")), "{messages:?}");
    }
}
