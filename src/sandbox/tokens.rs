//! The sandbox's four API tokens (seeds 002–004): the site administrator's user token, a
//! normal user's token, a team token and an organization token, and the account each one
//! belongs to (`GET /api/v2/account/details`). Only the admin token is chosen by the caller;
//! the other three are random per start. Nothing here decides what a token may do.

use std::fmt::Write as _;

use serde_json::{Value, json};

/// The kind of account a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A user token of a site administrator.
    Admin,
    /// A user token of a user who is not a site administrator.
    User,
    /// A team token (a team service account).
    Team,
    /// An organization token (an organization service account).
    Organization,
}

/// The tokens of one sandbox run. No `Debug`: they are credentials.
#[derive(Clone)]
pub(crate) struct Tokens {
    pub admin: String,
    pub user: String,
    pub team: String,
    pub organization: String,
    /// Suffix of the service accounts' names and of every account id, random per start.
    suffix: String,
}

impl Tokens {
    pub fn new(admin: String) -> Self {
        let suffix = random_hex(4);
        Tokens {
            admin,
            user: random_token(),
            team: random_token(),
            organization: random_token(),
            suffix,
        }
    }

    /// Which account the bearer token belongs to; `None` for an unknown token.
    pub fn kind_of(&self, token: &str) -> Option<TokenKind> {
        // The admin token first: a caller may choose a token equal to nothing else.
        [
            (&self.admin, TokenKind::Admin),
            (&self.user, TokenKind::User),
            (&self.team, TokenKind::Team),
            (&self.organization, TokenKind::Organization),
        ]
        .into_iter()
        .find(|(known, _)| known.as_str() == token)
        .map(|(_, kind)| kind)
    }

    /// The control plane's view: `{"admin":..,"user":..,"team":..,"organization":..}`.
    pub fn to_json(&self) -> Value {
        json!({
            "admin": self.admin,
            "user": self.user,
            "team": self.team,
            "organization": self.organization,
        })
    }

    /// The `users` document of `GET /api/v2/account/details` for a token of this kind.
    pub fn account_details(&self, kind: TokenKind, hostname: &str) -> Value {
        let suffix = &self.suffix;
        let (id, username, admin, service) = match kind {
            TokenKind::Admin => (
                format!("user-admin{suffix}"),
                "site-admin".to_owned(),
                true,
                false,
            ),
            TokenKind::User => (
                format!("user-plain{suffix}"),
                "sandbox-user".to_owned(),
                false,
                false,
            ),
            // TFE names service accounts after the team or organization they stand for.
            TokenKind::Team => (
                format!("user-team{suffix}"),
                format!("api-team_{suffix}"),
                false,
                true,
            ),
            TokenKind::Organization => (
                format!("user-org{suffix}"),
                format!("api-org-{suffix}"),
                false,
                true,
            ),
        };
        json!({
            "data": {
                "id": id,
                "type": "users",
                "attributes": {
                    "username": username,
                    "email": format!("{username}@{hostname}"),
                    "is-admin": admin,
                    // The name older releases use (go-tfe #900); kept equal.
                    "is-site-admin": admin,
                    "is-service-account": service,
                }
            }
        })
    }
}

/// A fresh random token: 64 hexadecimal digits from the operating system's generator.
#[must_use]
pub fn random_token() -> String {
    random_hex(32)
}

/// `bytes` random bytes as lowercase hexadecimal.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    // rustls' ring provider is already a dependency and reads the OS generator; a failure
    // there (no entropy source at all) leaves a weaker but still unique-per-process value.
    let provider = rustls::crypto::ring::default_provider();
    if provider.secure_random.fill(&mut buffer).is_err() {
        fallback_fill(&mut buffer);
    }
    let mut hex = String::with_capacity(bytes * 2);
    for byte in buffer {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Fills `buffer` from std's per-process random hash keys and the clock.
fn fallback_fill(buffer: &mut [u8]) {
    use std::hash::{BuildHasher as _, Hasher as _};
    let state = std::collections::hash_map::RandomState::new();
    for (i, chunk) in buffer.chunks_mut(8).enumerate() {
        let mut hasher = state.build_hasher();
        hasher.write_usize(i);
        if let Ok(now) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            hasher.write_u128(now.as_nanos());
        }
        let bytes = hasher.finish().to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_hex() {
        let a = random_token();
        let b = random_token();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn each_token_has_its_kind() {
        let tokens = Tokens::new("admin-token".to_owned());
        assert_eq!(tokens.kind_of("admin-token"), Some(TokenKind::Admin));
        assert_eq!(tokens.kind_of(&tokens.team.clone()), Some(TokenKind::Team));
        assert_eq!(tokens.kind_of("nope"), None);
    }
}
