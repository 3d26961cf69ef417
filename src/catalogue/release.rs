//! TFE release names and their order, for "introduced in" facts and release gating.
//!
//! TFE named releases by month (`v202401-1`) until 2025, then by semver (`1.0.3`, `2.1.0`);
//! every monthly release predates every semver one. The API reports them in the `ping`
//! headers `X-TFE-Version` (monthly) and `X-TFE-Current-Version` (semver). Pure data.

use std::cmp::Ordering;
use std::fmt;

/// A TFE release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Release {
    /// `vYYYYMM-N`.
    Monthly { year_month: u32, seq: u32 },
    /// `MAJOR.MINOR.PATCH`.
    Semver { major: u32, minor: u32, patch: u32 },
}

impl Release {
    #[must_use]
    pub const fn monthly(year_month: u32, seq: u32) -> Self {
        Release::Monthly { year_month, seq }
    }

    #[must_use]
    pub const fn semver(major: u32, minor: u32, patch: u32) -> Self {
        Release::Semver {
            major,
            minor,
            patch,
        }
    }

    /// Parses `v202401-1`, `202401-1`, `1.0.3` or `v2.1.0`; `None` for anything else.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        if let Some((ym, seq)) = text.split_once('-') {
            if ym.len() == 6 && ym.bytes().all(|b| b.is_ascii_digit()) {
                return Some(Release::monthly(ym.parse().ok()?, seq.parse().ok()?));
            }
            return None;
        }
        let mut parts = text.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        if parts.next().is_some() {
            return None;
        }
        Some(Release::semver(major, minor, patch))
    }
}

impl Ord for Release {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (
                Release::Monthly { year_month, seq },
                Release::Monthly {
                    year_month: y2,
                    seq: s2,
                },
            ) => (year_month, seq).cmp(&(y2, s2)),
            (Release::Monthly { .. }, Release::Semver { .. }) => Ordering::Less,
            (Release::Semver { .. }, Release::Monthly { .. }) => Ordering::Greater,
            (
                Release::Semver {
                    major,
                    minor,
                    patch,
                },
                Release::Semver {
                    major: m2,
                    minor: n2,
                    patch: p2,
                },
            ) => (major, minor, patch).cmp(&(m2, n2, p2)),
        }
    }
}

impl PartialOrd for Release {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Release::Monthly { year_month, seq } => write!(f, "v{year_month}-{seq}"),
            Release::Semver {
                major,
                minor,
                patch,
            } => write!(f, "{major}.{minor}.{patch}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_vocabularies() {
        assert_eq!(
            Release::parse("v202401-1"),
            Some(Release::monthly(202_401, 1))
        );
        assert_eq!(
            Release::parse("202003-1"),
            Some(Release::monthly(202_003, 1))
        );
        assert_eq!(Release::parse("2.1.0"), Some(Release::semver(2, 1, 0)));
        assert_eq!(Release::parse("v1.0.3"), Some(Release::semver(1, 0, 3)));
        assert_eq!(Release::parse("1.2"), Some(Release::semver(1, 2, 0)));
        assert_eq!(Release::parse("nightly"), None);
        assert_eq!(Release::parse("1.2.3.4"), None);
        assert_eq!(Release::parse("v2024-1"), None);
    }

    #[test]
    fn monthly_releases_come_before_semver() {
        assert!(Release::monthly(202_412, 9) < Release::semver(1, 0, 0));
        assert!(Release::monthly(202_003, 1) < Release::monthly(202_401, 1));
        assert!(Release::semver(2, 0, 9) < Release::semver(2, 1, 0));
    }

    #[test]
    fn displays_as_tfe_names_them() {
        assert_eq!(Release::monthly(202_401, 1).to_string(), "v202401-1");
        assert_eq!(Release::semver(2, 1, 0).to_string(), "2.1.0");
    }
}
