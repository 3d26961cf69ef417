//! The one place that reads the process environment: turns flags and environment variables
//! into the typed options the commands take.

/// `${env:NAME}` lookups against the process environment.
#[must_use]
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
