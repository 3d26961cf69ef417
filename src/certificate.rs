//! What a PEM value holds, as a reviewer checks it: for each block, a certificate's subject,
//! issuer, SHA-256 fingerprint and validity (x509-cert), or what kind of block it is. Read by
//! validation (a certificate that expires soon is a warning) and by the plan (which
//! certificate replaces which). Only the attributes whose catalogue entry holds certificates
//! are read here: a private key is a secret, and is never decoded. A block that does not
//! parse is reported as such, never a panic, and its bytes are never quoted. Pure: no I/O;
//! the time a certificate is judged at is passed in.

use std::time::{Duration, SystemTime};

use base64ct::{Base64, Encoding as _};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use x509_cert::certificate::{CertificateInner, Raw};
use x509_cert::der::Decode as _;

/// A certificate that expires within this many days is worth a warning.
pub const EXPIRY_WARNING_DAYS: u64 = 30;

/// The most blocks one value is read for: a bundle longer than that is not a certificate
/// anyone reviews block by block, and a hostile value must not cost unbounded work.
const MAX_BLOCKS: usize = 32;

/// One block of a PEM value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PemBlock {
    /// An X.509 certificate, by its public facts.
    Certificate(Certificate),
    /// A `CERTIFICATE` block that is not a readable X.509 certificate.
    Unreadable,
    /// A block of another kind (`PRIVATE KEY`, ...): never decoded, never shown.
    #[serde(rename_all = "kebab-case")]
    Other { label: String },
    /// Text that holds no PEM block at all (the whole value; a blank value has no block).
    NotPem,
}

/// The public facts of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Certificate {
    /// The subject's distinguished name, as RFC 4514 writes it (`CN=idp.example.com,O=Example`).
    pub subject: String,
    /// The issuer's distinguished name, the same way.
    pub issuer: String,
    /// The SHA-256 fingerprint of the DER encoding, as `openssl x509 -fingerprint -sha256`
    /// prints it (upper-case hex pairs joined by `:`).
    pub sha256: String,
    /// The start of the validity period (RFC 3339, UTC).
    pub not_before: String,
    /// The end of the validity period (RFC 3339, UTC).
    pub not_after: String,
    /// Whether the certificate is valid at the time of the plan, expires soon, has expired,
    /// or is not valid yet.
    pub validity: Validity,
}

/// A certificate's validity at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Validity {
    /// Valid for more than [`EXPIRY_WARNING_DAYS`] days.
    Valid,
    /// Valid, and expires within [`EXPIRY_WARNING_DAYS`] days.
    #[serde(rename_all = "kebab-case")]
    Expiring {
        /// Whole days left (0: it expires within a day).
        days_left: u64,
    },
    /// Past its not-after date.
    Expired,
    /// Before its not-before date.
    NotYetValid,
}

impl Validity {
    /// Whether the certificate deserves a warning: expired or expiring soon.
    #[must_use]
    pub fn is_warning(self) -> bool {
        matches!(self, Validity::Expiring { .. } | Validity::Expired)
    }
}

/// "in 12 days", "within a day": how long a certificate has left.
#[must_use]
pub fn days_phrase(days_left: u64) -> String {
    match days_left {
        0 => "within a day".to_owned(),
        1 => "in 1 day".to_owned(),
        n => format!("in {n} days"),
    }
}

/// The blocks of a PEM value, judged at `now`: none for a blank (unset) value, [`PemBlock::NotPem`]
/// alone for text that holds no PEM block.
#[must_use]
pub fn read(text: &str, now: SystemTime) -> Vec<PemBlock> {
    let read: Vec<PemBlock> = blocks(text)
        .take(MAX_BLOCKS)
        .map(|(label, body)| match label {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                certificate(body, now).map_or(PemBlock::Unreadable, PemBlock::Certificate)
            }
            other => PemBlock::Other {
                label: other.to_owned(),
            },
        })
        .collect();
    if read.is_empty() && !text.trim().is_empty() {
        vec![PemBlock::NotPem]
    } else {
        read
    }
}

/// The `(label, base64 body)` of each `-----BEGIN label-----` ... `-----END label-----` block.
/// Lax about whitespace and line length (an identity provider's certificate may come re-wrapped, with
/// `\r\n`, or indented by YAML), strict about the labels matching.
fn blocks(text: &str) -> impl Iterator<Item = (&str, &str)> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let mut rest = text;
    // Each attempt searches the rest of the text once: a bound on attempts, not only on
    // blocks found, keeps a value of many unterminated blocks linear.
    let mut attempts = 2 * MAX_BLOCKS;
    std::iter::from_fn(move || {
        loop {
            attempts = attempts.checked_sub(1)?;
            let start = rest.find(BEGIN)?;
            let after_begin = &rest[start + BEGIN.len()..];
            let Some(label_end) = after_begin.find(DASHES) else {
                rest = "";
                return None;
            };
            let label = &after_begin[..label_end];
            let body_start = &after_begin[label_end + DASHES.len()..];
            let end_marker = format!("-----END {label}-----");
            let Some(body_end) = body_start.find(&end_marker) else {
                // An unterminated block: what follows may still hold a whole one.
                rest = body_start;
                continue;
            };
            let body = &body_start[..body_end];
            if let Some(inner) = body.find(BEGIN) {
                // This block has no end of its own: the next one starts inside it.
                rest = &body_start[inner..];
                continue;
            }
            rest = &body_start[body_end + end_marker.len()..];
            if label.contains('\n') {
                continue;
            }
            return Some((label, body));
        }
    })
}

/// The facts of one certificate's base64 body; `None` when it does not decode or parse.
fn certificate(body: &str, now: SystemTime) -> Option<Certificate> {
    // RFC 7468 allows headers only in the legacy encapsulated form; a body with a `:` line
    // is not a certificate this tool reads.
    let base64: String = body.split_whitespace().collect();
    let der = Base64::decode_vec(&base64).ok()?;
    // The lax profile: IdPs sign with self-made certificates whose serial numbers RFC 5280
    // would refuse (negative, longer than 20 bytes); the facts shown are the same.
    let parsed = CertificateInner::<Raw>::from_der(&der).ok()?;
    let tbs = parsed.tbs_certificate();
    let validity = tbs.validity();
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    let sha256: Vec<String> = digest.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    Some(Certificate {
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        sha256: sha256.join(":"),
        not_before: validity.not_before.to_date_time().to_string(),
        not_after: validity.not_after.to_date_time().to_string(),
        validity: judge(
            validity.not_before.to_unix_duration(),
            validity.not_after.to_unix_duration(),
            now,
        ),
    })
}

/// The validity of a period (seconds since the Unix epoch) at `now`.
fn judge(not_before: Duration, not_after: Duration, now: SystemTime) -> Validity {
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    if now < not_before {
        Validity::NotYetValid
    } else if now > not_after {
        Validity::Expired
    } else {
        let days_left = not_after.saturating_sub(now).as_secs() / 86_400;
        if days_left < EXPIRY_WARNING_DAYS {
            Validity::Expiring { days_left }
        } else {
            Validity::Valid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_hours(24);

    /// A self-signed certificate valid from `not_before` to `not_after` (Unix seconds).
    fn pem(cn: &str, not_before: i64, not_after: i64) -> String {
        let Ok(key) = rcgen::KeyPair::generate() else {
            panic!("key")
        };
        let Ok(mut params) = rcgen::CertificateParams::new(Vec::<String>::new()) else {
            panic!("params")
        };
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "Example");
        let at = |t: i64| match time::OffsetDateTime::from_unix_timestamp(t) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        params.not_before = at(not_before);
        params.not_after = at(not_after);
        match params.self_signed(&key) {
            Ok(cert) => cert.pem(),
            Err(e) => panic!("{e}"),
        }
    }

    fn at(seconds: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn a_certificate_is_read_for_its_public_facts() {
        // 2001-09-09 to 2033-05-18.
        let text = pem("idp.example.com", 1_000_000_000, 2_000_000_000);
        let blocks = read(&text, at(1_500_000_000));
        let [PemBlock::Certificate(cert)] = blocks.as_slice() else {
            panic!("{blocks:?}")
        };
        // RFC 4514 writes the last name of the DER sequence first.
        assert_eq!(cert.subject, "O=Example,CN=idp.example.com");
        assert_eq!(cert.issuer, cert.subject, "self-signed");
        assert_eq!(cert.not_before, "2001-09-09T01:46:40Z");
        assert_eq!(cert.not_after, "2033-05-18T03:33:20Z");
        assert_eq!(cert.validity, Validity::Valid);
        assert_eq!(cert.sha256.len(), 32 * 3 - 1);
        assert!(cert.sha256.split(':').all(|b| {
            b.len() == 2
                && b.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        }));
        // Whitespace is not part of a certificate: re-wrapped, CRLF, indented, the same facts.
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let rewrapped = format!(
            "  -----BEGIN CERTIFICATE-----\r\n  {}\r\n  {}\r\n  -----END CERTIFICATE-----",
            &body[..70],
            &body[70..]
        );
        assert_eq!(read(&rewrapped, at(1_500_000_000)), blocks);
    }

    #[test]
    fn validity_is_judged_at_the_time_given() {
        let text = pem("a", 1_000_000_000, 2_000_000_000);
        let validity = |now: SystemTime| match read(&text, now).as_slice() {
            [PemBlock::Certificate(c)] => c.validity,
            other => panic!("{other:?}"),
        };
        let end = at(2_000_000_000);
        assert_eq!(validity(at(999_999_999)), Validity::NotYetValid);
        assert_eq!(validity(end - 31 * DAY), Validity::Valid);
        assert_eq!(validity(end - 30 * DAY), Validity::Valid);
        assert_eq!(
            validity(end - 29 * DAY - Duration::from_secs(1)),
            Validity::Expiring { days_left: 29 }
        );
        assert_eq!(
            validity(end - Duration::from_mins(1)),
            Validity::Expiring { days_left: 0 }
        );
        assert_eq!(validity(end + Duration::from_secs(1)), Validity::Expired);
        assert!(Validity::Expired.is_warning());
        assert!(Validity::Expiring { days_left: 3 }.is_warning());
        assert!(!Validity::Valid.is_warning());
        assert!(!Validity::NotYetValid.is_warning());
    }

    #[test]
    fn chains_keys_and_garbage_are_told_apart_without_panicking() {
        let now = at(1_500_000_000);
        let one = pem("leaf", 1_000_000_000, 2_000_000_000);
        let two = pem("intermediate", 1_000_000_000, 2_000_000_000);
        let chain = read(&format!("{one}\n{two}"), now);
        assert!(
            matches!(chain.as_slice(), [PemBlock::Certificate(a), PemBlock::Certificate(b)]
                if a.subject.ends_with("CN=leaf") && b.subject.ends_with("CN=intermediate")),
            "{chain:?}"
        );
        let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            read(key, now),
            [PemBlock::Other {
                label: "PRIVATE KEY".to_owned()
            }]
        );
        for garbage in [
            "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            "-----BEGIN CERTIFICATE-----\nOLD\n-----END CERTIFICATE-----",
        ] {
            assert_eq!(read(garbage, now), [PemBlock::Unreadable], "{garbage}");
        }
        // A truncated certificate: its first half.
        let half = format!("{}\n-----END CERTIFICATE-----", &one[..one.len() / 2]);
        assert_eq!(read(&half, now), [PemBlock::Unreadable]);
        assert_eq!(read("", now), []);
        assert_eq!(read(" \n", now), []);
        for nothing in [
            "not pem at all",
            "-----BEGIN CERTIFICATE-----\nno end",
            "-----BEGIN ",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END KEY-----",
        ] {
            assert_eq!(read(nothing, now), [PemBlock::NotPem], "{nothing}");
        }
        // Unterminated, then a whole block: the whole one is read.
        let after = read(&format!("-----BEGIN CERTIFICATE-----\n{one}"), now);
        assert!(
            matches!(after.as_slice(), [PemBlock::Certificate(_)]),
            "{after:?}"
        );
    }

    #[test]
    fn a_bundle_is_read_up_to_a_bound() {
        let block = "-----BEGIN X-----\nAAAA\n-----END X-----\n";
        let many = block.repeat(MAX_BLOCKS * 4);
        assert_eq!(read(&many, at(0)).len(), MAX_BLOCKS);
        // Unterminated blocks are attempts too: a long run of them is read in linear time.
        let open = "-----BEGIN CERTIFICATE-----\n".repeat(10_000);
        assert_eq!(read(&open, at(0)), [PemBlock::NotPem]);
    }

    proptest::proptest! {
        /// No text makes the reader panic, whatever it holds around PEM markers.
        #[test]
        fn any_text_is_read_without_panicking(
            text in "(-----(BEGIN|END) (CERTIFICATE|X)-----|[A-Za-z0-9+/=]{0,8}|\\s|é){0,24}"
        ) {
            let _ = read(&text, at(0));
        }
    }
}
