//! The emulated TFE's database and its one JSON shape, shared by the state file and the
//! control plane's `GET`/`PUT /_sandbox/state`:
//!
//! ```json
//! {
//!   "version": 1,
//!   "settings": { "general": { "api-rate-limit": 50 }, "saml": { "old-idp-cert": "..." } },
//!   "write-only-set": { "smtp": ["password"] },
//!   "policies": { "data-retention-policy": { "id": "drp-...", "delete-older-than-n-days": 30 } }
//! }
//! ```
//!
//! `settings` holds, per singleton section, the attributes ever stored (sparse: an absent
//! attribute has its documented default). Write-only values are kept in memory only: the file
//! and the control plane say *that* they are set, never what they are. Everything GET returns
//! is stored in clear, as in TFE's own database (cost-estimation keys included), which is why
//! the file is created with mode 0600. This module checks shapes and values; it never decides
//! API behaviour.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use super::SandboxError;
use super::specific;
use super::values;
use crate::bounded::{self, ReadError};
use crate::catalogue::{self, Access, SectionSpec};

/// The version of the JSON shape, written to the file.
const FORMAT_VERSION: u64 = 1;

/// A write-only value: known in memory after a PATCH, only "set" after a restart.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct WriteOnly(Option<String>);

impl fmt::Debug for WriteOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// Where the database keeps a section, chosen by its kind's [`super::Handler`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    /// Under `settings`: the attributes ever stored.
    Settings,
    /// Under `policies`: the policy or null.
    Policy,
    /// Under `collections`: the items; a fresh installation's until one is written.
    Items,
    /// Nothing to keep (actions only).
    Nothing,
}

/// One item of a collection: its id and attributes (its natural key among them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub id: String,
    pub attributes: Map<String, Value>,
}

/// Where the database keeps a section.
fn table(spec: &SectionSpec) -> Table {
    spec.kind.sandbox().table
}

/// A policy: its id and attributes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Policy {
    pub id: String,
    pub attributes: Map<String, Value>,
}

/// Everything the emulated TFE stores. No `Debug`: cost-estimation keys are kept in clear.
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Db {
    /// Section key -> the attributes stored, under their current (non-alias) names.
    settings: BTreeMap<String, Map<String, Value>>,
    /// Section key -> write-only attribute -> value.
    write_only: BTreeMap<String, BTreeMap<String, WriteOnly>>,
    /// Section key -> the policy, when one is set.
    policies: BTreeMap<String, Policy>,
    /// Section key -> the items, once the collection differs from what a fresh installation
    /// ships (absent: the shipped items, [`super::seed`]). Shared: a change to one item
    /// copies its own list, never the whole database's.
    collections: BTreeMap<String, Arc<Vec<Item>>>,
}

impl Db {
    /// The stored value of `section.attr`, if one was ever stored.
    pub fn stored(&self, section: &str, attr: &str) -> Option<&Value> {
        self.settings.get(section)?.get(attr)
    }

    pub fn store(&mut self, section: &str, attr: &str, value: Value) {
        self.settings
            .entry(section.to_owned())
            .or_default()
            .insert(attr.to_owned(), value);
    }

    pub fn unstore(&mut self, section: &str, attr: &str) {
        if let Some(map) = self.settings.get_mut(section) {
            map.remove(attr);
        }
    }

    /// Whether the write-only `section.attr` holds a value.
    pub fn is_set(&self, section: &str, attr: &str) -> bool {
        self.write_only
            .get(section)
            .is_some_and(|m| m.contains_key(attr))
    }

    /// Keeps the write-only values `previous` knows for the attributes still set here: a
    /// state read again from the file says only *that* they are set.
    fn keep_write_only_values(&mut self, previous: &Db) {
        for (section, attrs) in &mut self.write_only {
            for (name, value) in attrs.iter_mut() {
                if value.0.is_none()
                    && let Some(known) = previous.write_only.get(section).and_then(|m| m.get(name))
                {
                    value.clone_from(known);
                }
            }
        }
    }

    /// The items of a collection.
    pub fn items(&self, section: &str) -> Arc<Vec<Item>> {
        self.collections
            .get(section)
            .cloned()
            .unwrap_or_else(|| Arc::new(super::seed::items(section)))
    }

    /// Replaces the items of a collection.
    pub fn set_items(&mut self, section: &str, items: Vec<Item>) {
        self.collections.insert(section.to_owned(), Arc::new(items));
    }

    /// The value of a write-only attribute, when it was set since the sandbox started.
    pub fn write_only_value(&self, section: &str, attr: &str) -> Option<&str> {
        self.write_only.get(section)?.get(attr)?.0.as_deref()
    }

    /// Stores a write-only value; a blank one clears it.
    pub fn set_write_only(&mut self, section: &str, attr: &str, value: Option<&str>) {
        match value {
            Some(text) if !text.trim().is_empty() => {
                self.write_only
                    .entry(section.to_owned())
                    .or_default()
                    .insert(attr.to_owned(), WriteOnly(Some(text.to_owned())));
            }
            _ => {
                if let Some(map) = self.write_only.get_mut(section) {
                    map.remove(attr);
                }
            }
        }
    }

    /// Forgets everything stored for a section (SCIM's DELETE).
    pub fn reset_section(&mut self, section: &str) {
        self.settings.remove(section);
        self.write_only.remove(section);
    }

    pub fn policy(&self, section: &str) -> Option<&Policy> {
        self.policies.get(section)
    }

    pub fn set_policy(&mut self, section: &str, policy: Option<Policy>) {
        match policy {
            Some(p) => self.policies.insert(section.to_owned(), p),
            None => self.policies.remove(section),
        };
    }

    /// The JSON shape described at the top of this file (never a write-only value).
    pub fn to_json(&self) -> Value {
        let mut settings = Map::new();
        for spec in singletons() {
            let stored = self.settings.get(spec.key).cloned().unwrap_or_default();
            settings.insert(spec.key.to_owned(), Value::Object(stored));
        }
        let mut write_only = Map::new();
        for (section, attrs) in &self.write_only {
            if !attrs.is_empty() {
                let names: Vec<Value> = attrs.keys().map(|k| Value::from(k.as_str())).collect();
                write_only.insert(section.clone(), Value::Array(names));
            }
        }
        let mut policies = Map::new();
        for spec in catalogue::SECTIONS
            .iter()
            .filter(|s| table(s) == Table::Policy)
        {
            let value = self.policies.get(spec.key).map_or(Value::Null, |p| {
                let mut object = Map::new();
                object.insert("id".to_owned(), Value::from(p.id.as_str()));
                object.extend(p.attributes.clone());
                Value::Object(object)
            });
            policies.insert(spec.key.to_owned(), value);
        }
        let mut collections = Map::new();
        for (section, items) in &self.collections {
            let items: Vec<Value> = items
                .iter()
                .map(|item| {
                    let mut object = Map::new();
                    object.insert("id".to_owned(), Value::from(item.id.as_str()));
                    object.extend(item.attributes.clone());
                    Value::Object(object)
                })
                .collect();
            collections.insert(section.clone(), Value::Array(items));
        }
        json!({
            "version": FORMAT_VERSION,
            "settings": settings,
            "write-only-set": write_only,
            "policies": policies,
            "collections": collections,
        })
    }

    /// Reads the JSON shape, checking every name and value against the catalogue. Returns
    /// every problem found, each naming where it is.
    pub fn from_json(value: &Value) -> Result<Db, Vec<String>> {
        let mut problems = Vec::new();
        let mut db = Db::default();
        let Some(root) = value.as_object() else {
            return Err(vec!["the state must be a JSON object".to_owned()]);
        };
        for (key, value) in root {
            match key.as_str() {
                "version" => {
                    if value.as_u64() != Some(FORMAT_VERSION) {
                        problems.push(format!("version: must be {FORMAT_VERSION}"));
                    }
                }
                "settings" => read_settings(value, &mut db, &mut problems),
                "write-only-set" => read_write_only(value, &mut db, &mut problems),
                "policies" => read_policies(value, &mut db, &mut problems),
                "collections" => read_collections(value, &mut db, &mut problems),
                other => problems.push(format!(
                    "{other}: unknown key (expected version, settings, write-only-set, policies, \
                     collections)"
                )),
            }
        }
        if problems.is_empty() {
            Ok(db)
        } else {
            Err(problems)
        }
    }
}

fn singletons() -> impl Iterator<Item = &'static SectionSpec> {
    catalogue::SECTIONS
        .iter()
        .copied()
        .filter(|s| table(s) == Table::Settings)
}

fn read_settings(value: &Value, db: &mut Db, problems: &mut Vec<String>) {
    let Some(sections) = value.as_object() else {
        problems.push("settings: must be an object of sections".to_owned());
        return;
    };
    for (key, attrs) in sections {
        let Some(spec) = singletons().find(|s| s.key == key) else {
            problems.push(format!("settings.{key}: not a settings section"));
            continue;
        };
        let Some(attrs) = attrs.as_object() else {
            problems.push(format!("settings.{key}: must be an object of attributes"));
            continue;
        };
        // Aliases first, so that the current name wins when both are given.
        let mut entries: Vec<(&String, &Value)> = attrs.iter().collect();
        entries.sort_by_key(|(name, _)| spec.attribute(name).is_none_or(|a| a.alias_of.is_none()));
        for (name, value) in entries {
            let place = format!("settings.{key}.{name}");
            let Some(attr) = spec.attribute(name) else {
                problems.push(format!("{place}: unknown attribute"));
                continue;
            };
            match attr.access {
                Access::ReadWrite => {}
                Access::ReadOnly if specific::stored_read_only(spec.key, attr.name) => {}
                Access::WriteOnly => {
                    match value {
                        Value::String(text) => db.set_write_only(key, name, Some(text)),
                        Value::Null => {}
                        _ => problems.push(format!("{place}: must be a string")),
                    }
                    continue;
                }
                Access::ReadOnly => {
                    problems.push(format!("{place}: read-only, derived by the sandbox"));
                    continue;
                }
                Access::Trigger | Access::Outcome => {
                    problems.push(format!("{place}: never stored by the API"));
                    continue;
                }
            }
            match values::check(spec, attr, value) {
                Ok(()) => db.store(key, attr.alias_of.unwrap_or(attr.name), value.clone()),
                Err(why) => problems.push(format!("{place}: {why}")),
            }
        }
    }
}

fn read_write_only(value: &Value, db: &mut Db, problems: &mut Vec<String>) {
    let Some(sections) = value.as_object() else {
        problems.push("write-only-set: must be an object of sections".to_owned());
        return;
    };
    for (key, names) in sections {
        let Some(spec) = singletons().find(|s| s.key == key) else {
            problems.push(format!("write-only-set.{key}: not a settings section"));
            continue;
        };
        let Some(names) = names.as_array() else {
            problems.push(format!(
                "write-only-set.{key}: must be a list of attribute names"
            ));
            continue;
        };
        for name in names {
            let attr = name
                .as_str()
                .and_then(|n| spec.attribute(n))
                .filter(|a| a.access == Access::WriteOnly);
            match attr {
                // Only *that* it is set survives a restart, never the value.
                Some(attr) => {
                    if !db.is_set(key, attr.name) {
                        db.write_only
                            .entry(key.clone())
                            .or_default()
                            .insert(attr.name.to_owned(), WriteOnly(None));
                    }
                }
                None => problems.push(format!(
                    "write-only-set.{key}: {name} is not a write-only attribute"
                )),
            }
        }
    }
}

fn read_policies(value: &Value, db: &mut Db, problems: &mut Vec<String>) {
    let Some(sections) = value.as_object() else {
        problems.push("policies: must be an object of sections".to_owned());
        return;
    };
    for (key, policy) in sections {
        let Some(spec) = catalogue::SECTIONS
            .iter()
            .find(|s| s.key == key && table(s) == Table::Policy)
        else {
            problems.push(format!("policies.{key}: not a policy section"));
            continue;
        };
        let Some(object) = policy.as_object() else {
            if !policy.is_null() {
                problems.push(format!("policies.{key}: must be an object or null"));
            }
            continue;
        };
        let id = match object.get("id") {
            None => specific::new_policy_id(spec.key),
            Some(Value::String(id)) if !id.trim().is_empty() => id.clone(),
            Some(_) => {
                problems.push(format!("policies.{key}.id: must be a non-empty string"));
                continue;
            }
        };
        let mut attributes = Map::new();
        for (name, value) in object.iter().filter(|(n, _)| n.as_str() != "id") {
            match spec
                .attribute(name)
                .filter(|a| a.access == Access::ReadWrite)
            {
                Some(attr) => match values::check(spec, attr, value) {
                    Ok(()) => {
                        attributes.insert(name.clone(), value.clone());
                    }
                    Err(why) => problems.push(format!("policies.{key}.{name}: {why}")),
                },
                None => problems.push(format!("policies.{key}.{name}: unknown attribute")),
            }
        }
        db.policies.insert(key.clone(), Policy { id, attributes });
    }
}

/// The emulated database, shared by the requests of this process and, through the state file
/// and its lock, with every other process serving the same file (two `--address sandbox:FILE`
/// runs at once): each lock takes the file's lock and reads the file again, so that a change
/// another process wrote is seen, and a write is never made over a state it did not read.
pub(crate) struct Store {
    db: tokio::sync::Mutex<Db>,
    file: Option<PathBuf>,
}

/// The database, locked for one request (and the state file with it, when there is one).
pub(crate) struct DbGuard<'a> {
    db: tokio::sync::MutexGuard<'a, Db>,
    /// Held until the guard is dropped: closing the file releases the lock.
    _file_lock: Option<std::fs::File>,
}

impl std::ops::Deref for DbGuard<'_> {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl std::ops::DerefMut for DbGuard<'_> {
    fn deref_mut(&mut self) -> &mut Db {
        &mut self.db
    }
}

impl Store {
    pub fn new(db: Db, file: Option<PathBuf>) -> Self {
        Store {
            db: tokio::sync::Mutex::new(db),
            file,
        }
    }

    /// Locks the database for one request. With a state file, also locks the file and reads
    /// it again. A lock that cannot be taken (a read-only directory) or a file that cannot be
    /// read now leaves this process's own view: its writes then fail and say why.
    pub async fn lock(&self) -> DbGuard<'_> {
        let mut db = self.db.lock().await;
        let mut file_lock = None;
        if let Some(path) = &self.file
            && let Ok(lock) = lock_file(path).await
        {
            file_lock = Some(lock);
            if let Ok(mut fresh) = load(path).await {
                fresh.keep_write_only_values(&db);
                *db = fresh;
            }
        }
        DbGuard {
            db,
            _file_lock: file_lock,
        }
    }
}

/// Takes the state file's lock, waiting for another process to release it. The lock is on a
/// file beside it, `.NAME.lock`: the state file itself is replaced by a rename on every
/// write, so its own inode cannot carry the lock.
async fn lock_file(path: &Path) -> std::io::Result<std::fs::File> {
    let name = path
        .file_name()
        .map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    let lock_path = parent_dir(path).join(format!(".{name}.lock"));
    tokio::task::spawn_blocking(move || {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options.open(&lock_path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

fn read_collections(value: &Value, db: &mut Db, problems: &mut Vec<String>) {
    let Some(sections) = value.as_object() else {
        problems.push("collections: must be an object of sections".to_owned());
        return;
    };
    for (key, items) in sections {
        let Some(spec) = catalogue::SECTIONS
            .iter()
            .find(|s| s.key == key && table(s) == Table::Items)
        else {
            problems.push(format!("collections.{key}: not a collection"));
            continue;
        };
        let Some(rules) = spec.kind.sandbox().items else {
            continue;
        };
        let Some(items) = items.as_array() else {
            problems.push(format!("collections.{key}: must be a list of items"));
            continue;
        };
        let mut read = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let place = format!("collections.{key}[{index}]");
            let Some(object) = item.as_object() else {
                problems.push(format!("{place}: must be an object"));
                continue;
            };
            let id = match object.get("id") {
                None => specific::new_item_id(),
                Some(Value::String(id)) if specific::is_item_id(id) => id.clone(),
                Some(_) => {
                    problems.push(format!(
                        "{place}.id: must be letters, digits, `-` and `_` (like tool-L4oe7rNwn7J4E5Yr)"
                    ));
                    continue;
                }
            };
            match object.get(rules.key_attr).and_then(Value::as_str) {
                Some(k) if (rules.key_valid)(k) => {}
                _ => {
                    problems.push(format!(
                        "{place}.{}: required, and must be a {}",
                        rules.key_attr, rules.key_attr
                    ));
                    continue;
                }
            }
            let mut attributes = Map::new();
            for (name, value) in object.iter().filter(|(n, _)| n.as_str() != "id") {
                if name == rules.key_attr {
                    attributes.insert(name.clone(), value.clone());
                    continue;
                }
                let verdict = match spec.attribute(name) {
                    Some(attr) if attr.access == Access::ReadWrite => {
                        values::check(spec, attr, value)
                    }
                    // Read-only values the installation keeps: how much a version is used.
                    Some(attr) if specific::stored_read_only(spec.key, attr.name) => {
                        values::check_read_only(attr, value)
                    }
                    Some(_) => Err("read-only, derived by the sandbox".to_owned()),
                    None => Err("unknown attribute".to_owned()),
                };
                match verdict {
                    Ok(()) => {
                        attributes.insert(name.clone(), value.clone());
                    }
                    Err(why) => problems.push(format!("{place}.{name}: {why}")),
                }
            }
            read.push(Item { id, attributes });
        }
        db.collections.insert(key.clone(), Arc::new(read));
    }
}

/// Loads the state file: a missing file is a fresh installation.
pub(crate) async fn load(path: &Path) -> Result<Db, SandboxError> {
    let owned = path.to_owned();
    let read =
        tokio::task::spawn_blocking(move || bounded::read_file(&owned, bounded::SANDBOX_STATE))
            .await
            .unwrap_or_else(|e| Err(ReadError::Read(std::io::Error::other(e))));
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(ReadError::Open(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            // Fail now rather than at the first write when the directory is missing.
            let dir = parent_dir(path);
            if let Err(source) = tokio::fs::metadata(&dir).await {
                return Err(SandboxError::ReadState {
                    path: path.to_owned(),
                    source: ReadError::Open(source),
                });
            }
            return Ok(Db::default());
        }
        Err(source) => {
            return Err(SandboxError::ReadState {
                path: path.to_owned(),
                source,
            });
        }
    };
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|source| SandboxError::CorruptState {
            path: path.to_owned(),
            source,
        })?;
    Db::from_json(&value).map_err(|problems| SandboxError::InvalidState {
        path: path.to_owned(),
        problems,
    })
}

/// Writes the state file atomically: a temporary file in the same directory, created with
/// mode 0600 on unix, synced, then renamed over the old one. A reader never sees half a file.
pub(crate) async fn save(path: &Path, db: &Db) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut bytes = serde_json::to_vec_pretty(&db.to_json()).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    let name = path
        .file_name()
        .map_or_else(|| "state".into(), |n| n.to_string_lossy().into_owned());
    let temp = parent_dir(path).join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = write_new(&temp, &bytes).await;
    let renamed = match written {
        Ok(()) => tokio::fs::rename(&temp, path).await,
        Err(e) => Err(e),
    };
    if renamed.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    renamed
}

async fn write_new(temp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt as _;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(temp).await?;
    file.write_all(bytes).await?;
    file.sync_all().await
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_shape_round_trips_without_secret_values() {
        let input = json!({
            "settings": {
                "general": { "api-rate-limit": 50, "terraform-build-worker-plan-timeout": "3h" },
                "smtp": { "host": "mail", "password": "hunter2" },
                "saml": { "old-idp-cert": "OLD" }
            },
            "write-only-set": { "twilio": ["auth-token"] },
            "policies": { "data-retention-policy": { "id": "drp-1", "delete-older-than-n-days": 9 } }
        });
        let db = match Db::from_json(&input) {
            Ok(db) => db,
            Err(problems) => panic!("{problems:?}"),
        };
        assert_eq!(db.stored("general", "plan-timeout"), Some(&json!("3h")));
        assert!(db.is_set("smtp", "password"));
        let output = db.to_json();
        assert!(!output.to_string().contains("hunter2"));
        assert_eq!(output["write-only-set"]["smtp"], json!(["password"]));
        assert_eq!(
            output["policies"]["data-retention-policy"]["delete-older-than-n-days"],
            json!(9)
        );
        let again = match Db::from_json(&output) {
            Ok(db) => db,
            Err(problems) => panic!("{problems:?}"),
        };
        assert_eq!(again.to_json(), output);
    }

    #[test]
    fn every_problem_is_named() {
        let input = json!({
            "settings": {
                "general": { "api-rate-limit": 5, "fair-run-queuing-enabled": true, "nope": 1 },
                "oidc": {}
            },
            "write-only-set": { "smtp": ["host"] },
            "extra": 1
        });
        let Err(problems) = Db::from_json(&input) else {
            panic!("accepted a bad state");
        };
        assert_eq!(problems.len(), 6, "{problems:#?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("settings.general.api-rate-limit"))
        );
    }
}
