//! Showing plans to people and programs: text (like Terraform, colour on a terminal),
//! markdown (for pull-request comments, summary first) and JSON (the serialised plan, the
//! format of `schema/plan.schema.json`). Reads plans only; never calls back into earlier
//! stages. Sensitive values are not in a plan's shown fields, so they cannot be rendered.

mod markdown;
pub mod outcome;
mod text;
mod value;
pub mod words;

pub use markdown::markdown;
pub use text::text;

use serde_json::Value;

use crate::plan::{Plan, Summary};

/// The plan as pretty JSON with a final newline, every note and blocked reason with its
/// words beside its code, every multi-line value shown with the hunks of its line diff.
#[must_use]
pub fn json(plan: &Plan) -> String {
    let mut plan = plan.clone();
    for section in &mut plan.sections {
        for note in &mut section.notes {
            note.message = words::note(&note.kind);
        }
        for item in &mut section.items {
            if let Some(blocked) = item.blocked.as_mut() {
                blocked.message = words::blocked(&blocked.reason);
            }
            for attr in &mut item.attributes {
                attr.diff = match value::shown(&section.section, attr) {
                    value::Shown::Lines(diff) => Some(diff),
                    _ => None,
                };
            }
        }
    }
    let mut out = serde_json::to_string_pretty(&plan).unwrap_or_default();
    out.push('\n');
    out
}

/// How the entries of a keyed set changed (`archs`, keyed by os/arch): entries added,
/// removed, and the fields that changed in the others, each named by its key
/// (`linux/arm64`). `None` when the values are not lists of objects.
#[must_use]
pub fn set_changes(key: &[&str], before: &Value, after: &Value) -> Option<Vec<SetChange>> {
    let (Value::Array(before), Value::Array(after)) = (before, after) else {
        return None;
    };
    let name = |entry: &Value| -> String {
        key.iter()
            .map(|k| {
                entry
                    .get(*k)
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut changes = Vec::new();
    for entry in after {
        let entry_name = name(entry);
        match before.iter().find(|b| name(b) == entry_name) {
            None => changes.push(SetChange::Added {
                entry: entry_name,
                value: entry.clone(),
            }),
            Some(old) => {
                let fields = entry.as_object().into_iter().flatten();
                for (field, value) in fields {
                    let was = old.get(field).cloned().unwrap_or(Value::Null);
                    let same = match (&was, value) {
                        (Value::String(a), Value::String(b)) => a.eq_ignore_ascii_case(b),
                        (a, b) => a == b,
                    };
                    if !same {
                        changes.push(SetChange::Changed {
                            entry: entry_name.clone(),
                            field: field.clone(),
                            before: was,
                            after: value.clone(),
                        });
                    }
                }
            }
        }
    }
    for entry in before {
        let entry_name = name(entry);
        if !after.iter().any(|a| name(a) == entry_name) {
            changes.push(SetChange::Removed { entry: entry_name });
        }
    }
    Some(changes)
}

/// One change of a keyed set's entries.
#[derive(Debug, Clone, PartialEq)]
pub enum SetChange {
    Added {
        entry: String,
        value: Value,
    },
    Removed {
        entry: String,
    },
    Changed {
        entry: String,
        field: String,
        before: Value,
        after: Value,
    },
}

/// The kind of a section's attribute, if the catalogue has it.
fn kind_of(section: &str, attribute: &str) -> Option<crate::catalogue::Kind> {
    crate::catalogue::section(section)
        .and_then(|s| s.attribute(attribute))
        .map(|a| a.kind)
}

/// "2 sections to change (3 attributes), 1 action" or "no changes".
#[must_use]
pub fn summary_phrase(summary: &Summary) -> String {
    let mut parts = Vec::new();
    if summary.sections > 0 {
        parts.push(format!(
            "{} to change ({})",
            count(summary.sections, "section"),
            count(summary.attributes, "attribute")
        ));
    }
    let items: Vec<String> = [
        (summary.create, "to create"),
        (summary.update, "to update"),
        (summary.delete, "to delete"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if !items.is_empty() {
        parts.push(format!("items: {}", items.join(", ")));
    }
    if summary.actions > 0 {
        parts.push(count(summary.actions, "action"));
    }
    if summary.blocked > 0 {
        parts.push(format!("{} blocked", count(summary.blocked, "item")));
    }
    if parts.is_empty() {
        "no changes".to_owned()
    } else {
        parts.join(", ")
    }
}

fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::api::Method;
    use crate::certificate::{Certificate, PemBlock, Validity};
    use crate::plan::{
        AttributePlan, AttributeRole, CertificateChange, ItemPlan, Operation, SectionPlan, Step,
        StepKind,
    };

    fn change(name: &str, before: Option<Value>, after: Value) -> AttributePlan {
        AttributePlan {
            name: name.to_owned(),
            role: AttributeRole::Change,
            sensitive: false,
            before_known: before.is_some(),
            before,
            after: Some(after),
            reference: None,
            location: "tfe-admin.yaml:1:1".to_owned(),
            certificates: None,
            diff: None,
        }
    }

    fn section(key: &str, attributes: Vec<AttributePlan>) -> SectionPlan {
        SectionPlan {
            section: key.to_owned(),
            items: vec![ItemPlan {
                item: None,
                operation: Operation::Update,
                exists: true,
                live_id: None,
                attributes,
                steps: vec![Step {
                    kind: StepKind::Update,
                    method: Method::Patch,
                    path: format!("admin/{key}-settings"),
                    action: None,
                    body: None,
                    expect: Vec::new(),
                }],
                blocked: None,
            }],
            notes: Vec::new(),
            live_count: None,
        }
    }

    fn certificate(cn: &str, byte: &str, not_after: &str, validity: Validity) -> PemBlock {
        PemBlock::Certificate(Certificate {
            subject: format!("CN={cn},O=Example"),
            issuer: "CN=Example Root CA,O=Example".to_owned(),
            sha256: vec![byte; 32].join(":"),
            not_before: "2020-01-01T00:00:00Z".to_owned(),
            not_after: not_after.to_owned(),
            validity,
        })
    }

    /// A plan with every way of showing a value: multi-line HTML (one line changed; one
    /// stored escaped), a value the server did not return, a long one-line value, JSON text,
    /// certificates (one from a reference, so its text is sensitive; one replacing text that
    /// is not a readable certificate).
    fn values_plan() -> Plan {
        let mut footer = change(
            "footer",
            Some(json!(
                "<p>Line ONE of the footer</p>\n<p>Line two</p>\n<p>Line three</p>\n"
            )),
            json!("<p>Line ONE of the footer</p>\n<p>Line TWO</p>\n<p>Line three</p>\n"),
        );
        footer.location = "tfe-admin.yaml:12:11".to_owned();
        let login_help = change(
            "login-help",
            Some(json!(
                "&lt;div&gt;Sign in with SSO&lt;/div&gt;\n<p>Help: call 1234 &amp; ask</p>"
            )),
            json!("<div>Sign in with SSO</div>\n<p>Help: call 5678 &amp; ask</p>\n"),
        );
        let error = change(
            "error",
            None,
            json!("<p>Oops.</p>\n<p>Call ```ops```.</p>\n"),
        );
        let long = "x".repeat(250);
        let support = change(
            "support-url-address",
            Some(json!(format!("https://support.example.com/{long}/old"))),
            json!(format!("https://support.example.com/{long}/new")),
        );
        let gcp = change(
            "gcp-credentials",
            Some(json!(
                r#"{"type":"service_account","project_id":"pricing-old","client_email":"a@b.c"}"#
            )),
            json!(
                r#"{"client_email":"a@b.c","project_id":"pricing-new","type":"service_account"}"#
            ),
        );
        let mut idp_cert = change("idp-cert", None, Value::Null);
        idp_cert.sensitive = true;
        idp_cert.before_known = true;
        idp_cert.after = None;
        idp_cert.reference = Some("${file:certs/idp-cert.pem}".to_owned());
        idp_cert.certificates = Some(CertificateChange {
            before: Some(vec![certificate(
                "idp-2023.example.com",
                "0A",
                "2024-01-01T00:00:00Z",
                Validity::Expired,
            )]),
            after: vec![certificate(
                "idp-2025.example.com",
                "B7",
                "2027-01-01T00:00:00Z",
                Validity::Valid,
            )],
        });
        let mut sp_cert = change(
            "certificate",
            Some(json!(
                "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----"
            )),
            json!("-----BEGIN CERTIFICATE-----\n(the new one)\n-----END CERTIFICATE-----\n"),
        );
        sp_cert.certificates = Some(CertificateChange {
            before: Some(vec![PemBlock::Unreadable]),
            after: vec![
                certificate(
                    "sp.example.com",
                    "C3",
                    "2026-02-01T00:00:00Z",
                    Validity::Expiring { days_left: 12 },
                ),
                PemBlock::Other {
                    label: "PRIVATE KEY".to_owned(),
                },
            ],
        });
        let sections = vec![
            section("cost-estimation", vec![gcp]),
            section("saml", vec![idp_cert, sp_cert]),
            section("customization", vec![support, login_help, footer, error]),
        ];
        Plan {
            format_version: crate::plan::FORMAT_VERSION,
            address: "https://tfe.example.com".to_owned(),
            release: Some("v202501-1".to_owned()),
            summary: Summary {
                sections: 3,
                attributes: 7,
                ..Summary::default()
            },
            sections,
            errors: Vec::new(),
        }
    }

    #[test]
    fn text_shows_which_line_changes_and_which_certificate_replaces_which() {
        insta::assert_snapshot!("values_text", text(&values_plan(), false));
    }

    #[test]
    fn markdown_shows_diff_blocks_and_certificate_tables() {
        insta::assert_snapshot!("values_markdown", markdown(&values_plan()));
    }

    #[test]
    fn json_holds_before_after_and_the_hunks_and_fits_its_schema() {
        let rendered = json(&values_plan());
        let document: Value = match serde_json::from_str(&rendered) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let schema: Value = match serde_json::from_str(&crate::plan::json_schema_text()) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let validator = match jsonschema::validator_for(&schema) {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        let errors: Vec<String> = validator
            .iter_errors(&document)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        insta::assert_snapshot!("values_json", rendered);
    }

    #[test]
    fn colour_comes_from_anstyle_and_only_when_asked() {
        let plain = text(&values_plan(), false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        let coloured = text(&values_plan(), true);
        let red = anstyle::AnsiColor::Red.on_default();
        let green = anstyle::AnsiColor::Green.on_default();
        let reset = anstyle::Reset.render();
        assert!(
            coloured.contains(&format!("{}-<p>Line two</p>{reset}", red.render())),
            "{coloured}"
        );
        assert!(
            coloured.contains(&format!("{}+<p>Line TWO</p>{reset}", green.render())),
            "{coloured}"
        );
        // Without the escapes, the same text.
        let stripped = regex_lite::Regex::new("\u{1b}\\[[0-9;]*m")
            .map(|re| re.replace_all(&coloured, "").into_owned())
            .unwrap_or_default();
        assert_eq!(stripped, plain);
    }

    #[test]
    fn set_changes_name_entries_by_key() {
        let amd = json!({"os": "linux", "arch": "amd64", "url": "https://a", "sha": "AB"});
        let amd_lower = json!({"os": "linux", "arch": "amd64", "url": "https://a", "sha": "ab"});
        let arm = json!({"os": "linux", "arch": "arm64", "url": "https://b", "sha": "cd"});
        let s390 = json!({"os": "linux", "arch": "s390x", "url": "https://c", "sha": "ef"});
        let changes = set_changes(
            &["os", "arch"],
            &json!([amd, arm]),
            &json!([s390.clone(), amd_lower]),
        );
        assert_eq!(
            changes,
            Some(vec![
                SetChange::Added {
                    entry: "linux/s390x".to_owned(),
                    value: s390
                },
                SetChange::Removed {
                    entry: "linux/arm64".to_owned()
                },
            ])
        );
    }
}
