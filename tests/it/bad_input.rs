//! `tfe-admin validate` on invalid desired-state files: one table of bad inputs, one driver.
//!
//! Each case writes its files into a fresh temporary directory, runs
//! `tfe-admin validate ARGS` there with an emptied environment (plus only the variables the
//! case sets), and checks that the command fails with exit code 1, prints nothing on standard
//! output, does not panic, and prints exactly the expected `FILE:LINE:COL: path: message`
//! lines (in order, nothing more) followed by the `error: ... N errors in ...` summary.
//! Values a case marks as secret must not appear anywhere in the output.

use std::fs;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

/// The file most cases write and pass with `-f`.
const Y: &str = "tfe-admin.yaml";
/// `validate -f tfe-admin.yaml`.
const ARGS: &[&str] = &["-f", Y];

/// One YAML document, one string literal per line (a newline is added after each).
macro_rules! yaml {
    ($($line:literal),* $(,)?) => {
        concat!($($line, "\n"),*).as_bytes()
    };
}

/// One invalid input and what `tfe-admin validate` must say about it.
struct Case {
    name: &'static str,
    /// Files written into the temporary directory before the run: (relative path, bytes).
    files: &'static [(&'static str, &'static [u8])],
    /// Extra preparation of the directory (generated or non-file inputs).
    setup: Option<fn(&Path)>,
    /// The only environment variables the process sees.
    env: &'static [(&'static str, &'static str)],
    /// The arguments after `validate`.
    args: &'static [&'static str],
    /// Every diagnostic line on standard error, in order.
    expected: &'static [&'static str],
    /// Texts (secret values) that must not appear in the output.
    secrets: &'static [&'static str],
}

const CASE: Case = Case {
    name: "",
    files: &[],
    setup: None,
    env: &[],
    args: ARGS,
    expected: &[],
    secrets: &[],
};

/// A 10 MiB file: a valid start, then comment lines.
fn ten_mib_file(dir: &Path) {
    const SIZE: usize = 10 * 1024 * 1024;
    let mut text = String::with_capacity(SIZE);
    text.push_str("general:\n  api-rate-limit: 30\n");
    let line = format!("# {}\n", "x".repeat(77));
    while text.len() + line.len() <= SIZE {
        text.push_str(&line);
    }
    while text.len() < SIZE {
        text.push('#');
    }
    if let Err(e) = fs::write(dir.join(Y), text) {
        panic!("cannot write the 10 MiB file: {e}");
    }
}

/// A directory where a file is expected.
fn directory(dir: &Path) {
    if let Err(e) = fs::create_dir(dir.join("tfe-admin.d")) {
        panic!("cannot create the directory: {e}");
    }
}

/// A FIFO with no writer, where a file is expected: opening it for reading would block.
fn fifo(dir: &Path) {
    make_fifo(&dir.join("tfe-admin.fifo"));
}

/// `secrets/` holding a FIFO, a symbolic link out of the directory and one inside it.
fn secret_links(dir: &Path) {
    let secrets = dir.join("secrets");
    if let Err(e) = fs::create_dir_all(&secrets) {
        panic!("cannot create {}: {e}", secrets.display());
    }
    make_fifo(&secrets.join("fifo"));
    for (target, name) in [
        ("/etc/passwd", "passwd"),
        ("/dev/zero", "zero"),
        ("real-host", "host-link"),
    ] {
        #[cfg(unix)]
        if let Err(e) = std::os::unix::fs::symlink(target, secrets.join(name)) {
            panic!("cannot link {name}: {e}");
        }
    }
}

fn make_fifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(
        made.is_ok_and(|s| s.success()),
        "mkfifo {} failed",
        path.display()
    );
}

static CASES: &[Case] = &[
    // --- Malformed YAML ------------------------------------------------------------------
    Case {
        name: "unclosed flow sequence",
        files: &[(Y, yaml!("general:", "  agents-enabled: [true, false"))],
        expected: &["tfe-admin.yaml:2:19: (root): unclosed bracket '['"],
        ..CASE
    },
    Case {
        name: "unclosed quote does not echo the quoted secret",
        files: &[(Y, yaml!("smtp:", "  password: \"hunter2"))],
        expected: &["tfe-admin.yaml:2:13: (root): unclosed quote"],
        secrets: &["hunter2"],
        ..CASE
    },
    Case {
        name: "key indented less than its siblings",
        files: &[(
            Y,
            yaml!("general:", "  api-rate-limit: 30", " plan-timeout: 2h"),
        )],
        expected: &[
            "tfe-admin.yaml:3:2: (root): while parsing a block mapping, did not find expected key",
        ],
        ..CASE
    },
    Case {
        name: "key indented more than its siblings",
        files: &[(
            Y,
            yaml!("general:", "  api-rate-limit: 30", "    plan-timeout: 2h"),
        )],
        expected: &["tfe-admin.yaml:3:17: (root): mapping values are not allowed in this context"],
        ..CASE
    },
    Case {
        name: "attribute not indented under its section",
        files: &[(Y, yaml!("general:", "api-rate-limit: 30"))],
        expected: &[
            "tfe-admin.yaml:1:1: general: `general` is empty: give it attributes, or remove it to leave the section unmanaged",
            "tfe-admin.yaml:2:1: api-rate-limit: unknown section `api-rate-limit`: it is an attribute of `general`; put it under `general:`",
        ],
        ..CASE
    },
    Case {
        name: "tab used for indentation",
        files: &[(Y, yaml!("general:", "\tapi-rate-limit: 30"))],
        expected: &[
            "tfe-admin.yaml:2:2: (root): tabs disallowed within this context (block indentation)",
        ],
        ..CASE
    },
    Case {
        name: "duplicate top-level key",
        files: &[(
            Y,
            yaml!(
                "general:",
                "  api-rate-limit: 30",
                "general:",
                "  plan-timeout: 2h"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:3:1: (root): duplicate key `general`: each key may appear once in a mapping",
        ],
        ..CASE
    },
    Case {
        name: "duplicate key inside a section",
        files: &[(
            Y,
            yaml!("smtp:", "  host: a.example.com", "  host: b.example.com"),
        )],
        expected: &[
            "tfe-admin.yaml:3:3: (root): duplicate key `host`: each key may appear once in a mapping",
        ],
        ..CASE
    },
    Case {
        name: "non-string key (number) at top level",
        files: &[(Y, yaml!("1: x"))],
        expected: &[
            "tfe-admin.yaml:1:1: (root): the key 1 is a number, not text: quote it, as \"1\"",
        ],
        ..CASE
    },
    Case {
        name: "non-string key (boolean) at top level",
        files: &[(Y, yaml!("general:", "  api-rate-limit: 30", "true: x"))],
        expected: &[
            "tfe-admin.yaml:3:1: (root): a key must be a name, found the boolean true; quote it if you mean the text",
        ],
        ..CASE
    },
    Case {
        name: "non-string key (collection)",
        files: &[(Y, yaml!("? [a, b]", ": x"))],
        expected: &["tfe-admin.yaml:1:3: (root): a key must be a name, found a collection"],
        ..CASE
    },
    // --- Not a desired-state document ---------------------------------------------------
    Case {
        name: "empty file",
        files: &[(Y, b"")],
        expected: &[
            "tfe-admin.yaml:1:1: (root): the file holds no settings (it is empty or null): expected a mapping of settings sections, like `general:` (write `{}` to manage nothing)",
        ],
        ..CASE
    },
    Case {
        name: "file with only a comment",
        files: &[(Y, yaml!("# nothing managed yet"))],
        expected: &[
            "tfe-admin.yaml:2:1: (root): the file holds no settings (it is empty or null): expected a mapping of settings sections, like `general:` (write `{}` to manage nothing)",
        ],
        ..CASE
    },
    Case {
        name: "root is a list",
        files: &[(Y, yaml!("- general", "- smtp"))],
        expected: &[
            "tfe-admin.yaml:1:1: (root): expected a mapping of settings sections, like `general:`, found a list",
        ],
        ..CASE
    },
    Case {
        name: "root is a scalar",
        files: &[(Y, yaml!("general"))],
        expected: &[
            "tfe-admin.yaml:1:1: (root): expected a mapping of settings sections, like `general:`, found a string",
        ],
        ..CASE
    },
    Case {
        name: "binary garbage (not UTF-8)",
        files: &[(Y, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00")],
        expected: &[
            "tfe-admin.yaml:1:1: (root): not UTF-8 text (byte 0x89); is this a binary file?",
        ],
        ..CASE
    },
    Case {
        name: "invalid UTF-8 after valid lines is located",
        files: &[(Y, b"general:\n  plan-timeout: 2h\n\xff\xfe junk\n")],
        expected: &[
            "tfe-admin.yaml:3:1: (root): not UTF-8 text (byte 0xFF); is this a binary file?",
        ],
        ..CASE
    },
    Case {
        name: "10 MiB file",
        setup: Some(ten_mib_file),
        expected: &[
            "tfe-admin.yaml: the file is 10485760 bytes; a desired-state file may have at most 1048576 (1 MiB)",
        ],
        ..CASE
    },
    Case {
        name: "byte order mark does not shift columns",
        files: &[(Y, b"\xef\xbb\xbfgeneral:\n  api-rate-limit: 20\n")],
        expected: &["tfe-admin.yaml:2:19: general.api-rate-limit: must be at least 30 (found 20)"],
        ..CASE
    },
    Case {
        name: "missing -f file",
        args: &["-f", "missing.yaml"],
        expected: &["missing.yaml: no such file"],
        ..CASE
    },
    Case {
        name: "directory passed as -f",
        setup: Some(directory),
        args: &["-f", "tfe-admin.d"],
        expected: &["tfe-admin.d: is a directory, not a YAML file"],
        ..CASE
    },
    Case {
        name: "default file name when -f is not given",
        files: &[(Y, yaml!("general:", "  api-rate-limit: \"fifty\""))],
        args: &[],
        expected: &[
            "tfe-admin.yaml:2:19: general.api-rate-limit: expected an integer, found a string",
        ],
        ..CASE
    },
    // --- Sections ------------------------------------------------------------------------
    Case {
        name: "unknown section with a suggestion",
        files: &[(Y, yaml!("genral:", "  api-rate-limit: 30"))],
        expected: &[
            "tfe-admin.yaml:1:1: genral: unknown section `genral`; did you mean `general`?",
        ],
        ..CASE
    },
    Case {
        name: "attribute name used as a section",
        files: &[(Y, yaml!("api-rate-limit: 30"))],
        expected: &[
            "tfe-admin.yaml:1:1: api-rate-limit: unknown section `api-rate-limit`: it is an attribute of `general`; put it under `general:`",
        ],
        ..CASE
    },
    Case {
        name: "general: null",
        files: &[(Y, yaml!("general: null"))],
        expected: &[
            "tfe-admin.yaml:1:1: general: `general` is empty: give it attributes, or remove it to leave the section unmanaged",
        ],
        ..CASE
    },
    Case {
        name: "data-retention-policy is a number",
        files: &[(Y, yaml!("data-retention-policy: 5"))],
        expected: &[
            "tfe-admin.yaml:1:24: data-retention-policy: expected a mapping of attributes, or null for no policy, found an integer",
        ],
        ..CASE
    },
    Case {
        name: "oidc section (actions only)",
        files: &[(Y, yaml!("oidc:", "  rotate-key: true"))],
        expected: &[
            "tfe-admin.yaml:1:1: oidc: `oidc` has no settings to manage; its actions run when named: `--action oidc.rotate-key` or `--action oidc.trim-key`",
        ],
        ..CASE
    },
    // --- Attribute names -----------------------------------------------------------------
    Case {
        name: "typo in an attribute name",
        files: &[(Y, yaml!("general:", "  api-rate-limt: 30"))],
        expected: &[
            "tfe-admin.yaml:2:3: general.api-rate-limt: unknown attribute `api-rate-limt` in `general`; did you mean `api-rate-limit`?",
        ],
        ..CASE
    },
    Case {
        name: "snake_case attribute name",
        files: &[(Y, yaml!("general:", "  api_rate_limit: 30"))],
        expected: &[
            "tfe-admin.yaml:2:3: general.api_rate_limit: unknown attribute `api_rate_limit` in `general`; did you mean `api-rate-limit`?",
        ],
        ..CASE
    },
    Case {
        name: "attribute of another section",
        files: &[(Y, yaml!("general:", "  host: mail.example.com"))],
        expected: &[
            "tfe-admin.yaml:2:3: general.host: unknown attribute `host` in `general`: it belongs to section `smtp`",
        ],
        ..CASE
    },
    Case {
        name: "read-only saml acs-consumer-url",
        files: &[(
            Y,
            yaml!(
                "saml:",
                "  acs-consumer-url: https://tfe.example.com/users/saml/auth"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:3: saml.acs-consumer-url: `acs-consumer-url` is read-only: TFE sets it itself; remove it from the file",
        ],
        ..CASE
    },
    Case {
        name: "read-only saml old-idp-cert",
        files: &[(Y, yaml!("saml:", "  old-idp-cert: null"))],
        expected: &[
            "tfe-admin.yaml:2:3: saml.old-idp-cert: `old-idp-cert` is read-only: TFE sets it itself; remove it from the file",
        ],
        ..CASE
    },
    Case {
        name: "read-only scim site-admin-group-display-name",
        files: &[(Y, yaml!("scim:", "  site-admin-group-display-name: admins"))],
        expected: &[
            "tfe-admin.yaml:2:3: scim.site-admin-group-display-name: `site-admin-group-display-name` is read-only: TFE sets it itself; remove it from the file",
        ],
        ..CASE
    },
    Case {
        name: "read-only general stacks-entitled",
        files: &[(Y, yaml!("general:", "  stacks-entitled: true"))],
        expected: &[
            "tfe-admin.yaml:2:3: general.stacks-entitled: `stacks-entitled` is read-only: TFE sets it itself; remove it from the file",
        ],
        ..CASE
    },
    Case {
        name: "deprecated alias together with its target",
        files: &[(
            Y,
            yaml!(
                "general:",
                "  terraform-build-worker-plan-timeout: 2h",
                "  plan-timeout: 3h",
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:3: general.terraform-build-worker-plan-timeout: set either `plan-timeout` or its deprecated alias `terraform-build-worker-plan-timeout`, not both",
        ],
        ..CASE
    },
    Case {
        name: "deprecation warning is listed among the errors",
        files: &[(
            Y,
            yaml!(
                "general:",
                "  terraform-build-worker-plan-timeout: 2h",
                "  api-rate-limit: 29",
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:3: general.terraform-build-worker-plan-timeout: warning: deprecated: use `plan-timeout` instead (the same setting)",
            "tfe-admin.yaml:3:19: general.api-rate-limit: must be at least 30 (found 29)",
        ],
        ..CASE
    },
    // --- Types ---------------------------------------------------------------------------
    Case {
        name: "string for a boolean",
        files: &[(Y, yaml!("general:", "  api-rate-limiting-enabled: \"yes\""))],
        expected: &[
            "tfe-admin.yaml:2:30: general.api-rate-limiting-enabled: expected a boolean (true or false), found a string",
        ],
        ..CASE
    },
    Case {
        name: "string for an integer",
        files: &[(Y, yaml!("general:", "  api-rate-limit: \"fifty\""))],
        expected: &[
            "tfe-admin.yaml:2:19: general.api-rate-limit: expected an integer, found a string",
        ],
        ..CASE
    },
    Case {
        name: "mapping for a string",
        files: &[(Y, yaml!("smtp:", "  host:", "    name: mail.example.com"))],
        expected: &["tfe-admin.yaml:3:5: smtp.host: expected a string, found a mapping"],
        ..CASE
    },
    Case {
        name: "list for a boolean",
        files: &[(Y, yaml!("general:", "  agents-enabled: [true]"))],
        expected: &[
            "tfe-admin.yaml:2:19: general.agents-enabled: expected a boolean (true or false), found a list",
        ],
        ..CASE
    },
    Case {
        name: "phone number written as a YAML integer",
        files: &[(Y, yaml!("twilio:", "  from-number: 15551234567"))],
        expected: &[
            "tfe-admin.yaml:2:16: twilio.from-number: expected a string, found an integer; quote the value to write it as text",
        ],
        ..CASE
    },
    Case {
        name: "fraction for an integer",
        files: &[(Y, yaml!("smtp:", "  port: 25.5"))],
        expected: &["tfe-admin.yaml:2:9: smtp.port: expected an integer, found a number"],
        ..CASE
    },
    Case {
        name: "string for the avatar-sources list",
        files: &[(Y, yaml!("customization:", "  avatar-sources: saml"))],
        expected: &[
            "tfe-admin.yaml:2:19: customization.avatar-sources: expected a list, found a string",
        ],
        ..CASE
    },
    Case {
        name: "bad enum inside an avatar-sources item",
        files: &[(
            Y,
            yaml!(
                "customization:",
                "  avatar-sources:",
                "    - source: ldap",
                "      enabled: true",
            ),
        )],
        expected: &[
            "tfe-admin.yaml:3:15: customization.avatar-sources[0].source: must be one of: saml, gravatar (found \"ldap\")",
        ],
        ..CASE
    },
    // --- Ranges --------------------------------------------------------------------------
    Case {
        name: "api-rate-limit below 30",
        files: &[(Y, yaml!("general:", "  api-rate-limit: 29"))],
        expected: &["tfe-admin.yaml:2:19: general.api-rate-limit: must be at least 30 (found 29)"],
        ..CASE
    },
    Case {
        name: "smtp port 0",
        files: &[(Y, yaml!("smtp:", "  port: 0"))],
        expected: &["tfe-admin.yaml:2:9: smtp.port: must be at least 1 (found 0)"],
        ..CASE
    },
    Case {
        name: "smtp port 70000",
        files: &[(Y, yaml!("smtp:", "  port: 70000"))],
        expected: &["tfe-admin.yaml:2:9: smtp.port: must be at most 65535 (found 70000)"],
        ..CASE
    },
    Case {
        name: "smtp port beyond 64 bits",
        files: &[(Y, yaml!("smtp:", "  port: 99999999999999999999999"))],
        expected: &[
            "tfe-admin.yaml:2:9: smtp.port: must be at most 65535 (found 100000000000000000000000)",
        ],
        ..CASE
    },
    Case {
        name: "sso-api-token-session-timeout 0",
        files: &[(Y, yaml!("saml:", "  sso-api-token-session-timeout: 0"))],
        expected: &[
            "tfe-admin.yaml:2:34: saml.sso-api-token-session-timeout: must be at least 1 (found 0)",
        ],
        ..CASE
    },
    // --- Durations, URLs, e-mail, enums ---------------------------------------------------
    Case {
        name: "duration with an unknown unit",
        files: &[(Y, yaml!("general:", "  plan-timeout: 2x"))],
        expected: &[
            "tfe-admin.yaml:2:17: general.plan-timeout: not a duration (found \"2x\"): write a number and a unit (h, m, s, ms), like 90m, 2h or 1h30m",
        ],
        ..CASE
    },
    Case {
        name: "negative duration",
        files: &[(Y, yaml!("general:", "  plan-timeout: -1h"))],
        expected: &[
            "tfe-admin.yaml:2:17: general.plan-timeout: not a duration (found \"-1h\"): write a number and a unit (h, m, s, ms), like 90m, 2h or 1h30m",
        ],
        ..CASE
    },
    Case {
        name: "duration without a unit (quoted)",
        files: &[(Y, yaml!("general:", "  apply-timeout: \"10\""))],
        expected: &[
            "tfe-admin.yaml:2:18: general.apply-timeout: not a duration (found \"10\"): write a number and a unit (h, m, s, ms), like 90m, 2h or 1h30m",
        ],
        ..CASE
    },
    Case {
        name: "http:// for saml sso-endpoint-url",
        files: &[(
            Y,
            yaml!("saml:", "  sso-endpoint-url: http://idp.example.com/sso"),
        )],
        expected: &[
            "tfe-admin.yaml:2:21: saml.sso-endpoint-url: must be a URL starting with https:// (or empty to unset) (found \"http://idp.example.com/sso\")",
        ],
        ..CASE
    },
    Case {
        name: "ftp:// for customization internal-documentation-url",
        files: &[(
            Y,
            yaml!(
                "customization:",
                "  internal-documentation-url: ftp://docs.example.com/"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:31: customization.internal-documentation-url: must be a URL starting with http:// or https:// (or empty to unset) (found \"ftp://docs.example.com/\")",
        ],
        ..CASE
    },
    Case {
        name: "smtp sender is not an e-mail address",
        files: &[(Y, yaml!("smtp:", "  sender: not-an-email"))],
        expected: &[
            "tfe-admin.yaml:2:11: smtp.sender: not an e-mail address (found \"not-an-email\")",
        ],
        ..CASE
    },
    Case {
        name: "unknown smtp auth",
        files: &[(Y, yaml!("smtp:", "  auth: cram-md5"))],
        expected: &[
            "tfe-admin.yaml:2:9: smtp.auth: must be one of: none, plain, login, xoauth2 (found \"cram-md5\")",
        ],
        ..CASE
    },
    Case {
        name: "unknown saml provider-type",
        files: &[(Y, yaml!("saml:", "  provider-type: adfs"))],
        expected: &[
            "tfe-admin.yaml:2:18: saml.provider-type: must be one of: okta, entra, saml, unknown (found \"adfs\")",
        ],
        ..CASE
    },
    // --- Secrets -------------------------------------------------------------------------
    Case {
        name: "literal smtp password",
        files: &[(Y, yaml!("smtp:", "  password: hunter2"))],
        expected: &[
            "tfe-admin.yaml:2:13: smtp.password: literal secret: reference it as `${env:NAME}` or `${file:path}` (or pass --allow-literal-secrets)",
        ],
        secrets: &["hunter2"],
        ..CASE
    },
    Case {
        name: "literal twilio auth-token",
        files: &[(
            Y,
            yaml!("twilio:", "  auth-token: 0123456789abcdef0123456789abcdef"),
        )],
        expected: &[
            "tfe-admin.yaml:2:15: twilio.auth-token: literal secret: reference it as `${env:NAME}` or `${file:path}` (or pass --allow-literal-secrets)",
        ],
        secrets: &["0123456789abcdef"],
        ..CASE
    },
    Case {
        name: "literal cost-estimation aws-secret-key",
        files: &[(
            Y,
            yaml!(
                "cost-estimation:",
                "  aws-secret-key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:19: cost-estimation.aws-secret-key: literal secret: reference it as `${env:NAME}` or `${file:path}` (or pass --allow-literal-secrets)",
        ],
        secrets: &["wJalrXUtnFEMI"],
        ..CASE
    },
    Case {
        name: "--allow-literal-secrets still reports the other errors",
        files: &[(Y, yaml!("smtp:", "  password: hunter2", "  port: 0"))],
        args: &["--allow-literal-secrets", "-f", Y],
        expected: &["tfe-admin.yaml:3:9: smtp.port: must be at least 1 (found 0)"],
        secrets: &["hunter2"],
        ..CASE
    },
    // --- References ----------------------------------------------------------------------
    Case {
        name: "missing environment variable",
        files: &[(Y, yaml!("smtp:", "  host: ${env:TFE_SMTP_HOST}"))],
        expected: &[
            "tfe-admin.yaml:2:9: smtp.host: environment variable TFE_SMTP_HOST is not set (referenced as `${env:TFE_SMTP_HOST}`)",
        ],
        ..CASE
    },
    Case {
        name: "only the missing variable is reported, set ones resolve",
        files: &[(
            Y,
            yaml!(
                "smtp:",
                "  host: ${env:TFE_SMTP_HOST}",
                "  sender: ${env:TFE_SMTP_SENDER}",
            ),
        )],
        env: &[("TFE_SMTP_HOST", "mail.example.com")],
        expected: &[
            "tfe-admin.yaml:3:11: smtp.sender: environment variable TFE_SMTP_SENDER is not set (referenced as `${env:TFE_SMTP_SENDER}`)",
        ],
        ..CASE
    },
    Case {
        name: "invalid value from the environment is not echoed",
        files: &[(Y, yaml!("smtp:", "  sender: ${env:TFE_SMTP_SENDER}"))],
        env: &[("TFE_SMTP_SENDER", "ops-at-example.com")],
        expected: &["tfe-admin.yaml:2:11: smtp.sender: not an e-mail address"],
        secrets: &["ops-at-example.com"],
        ..CASE
    },
    Case {
        name: "invalid environment variable name",
        files: &[(Y, yaml!("smtp:", "  host: \"${env:SMTP-HOST}\""))],
        expected: &[
            "tfe-admin.yaml:2:9: smtp.host: invalid `${env:...}` reference: an environment variable name is letters, digits and `_`, not starting with a digit",
        ],
        ..CASE
    },
    Case {
        name: "missing ${file:...} file",
        files: &[(Y, yaml!("smtp:", "  host: ${file:secrets/smtp-host}"))],
        expected: &[
            "tfe-admin.yaml:2:9: smtp.host: cannot read file secrets/smtp-host (referenced as `${file:secrets/smtp-host}`): No such file or directory (os error 2)",
        ],
        ..CASE
    },
    Case {
        name: "${file:...} is relative to the YAML file, which is named as given",
        files: &[(
            "conf/tfe-admin.yaml",
            yaml!("smtp:", "  host: ${file:secrets/smtp-host}"),
        )],
        args: &["-f", "conf/tfe-admin.yaml"],
        expected: &[
            "conf/tfe-admin.yaml:2:9: smtp.host: cannot read file conf/secrets/smtp-host (referenced as `${file:secrets/smtp-host}`): No such file or directory (os error 2)",
        ],
        ..CASE
    },
    Case {
        name: "a duration longer than Go holds",
        files: &[(
            Y,
            yaml!("general:", "  plan-timeout: 99999999999999999999h"),
        )],
        expected: &[
            "tfe-admin.yaml:2:17: general.plan-timeout: too long: a duration is at most 2562047h47m16.854775807s, the longest Go holds (TFE refuses longer ones)",
        ],
        ..CASE
    },
    Case {
        name: "FIFO passed as -f is refused, not waited on",
        setup: Some(fifo),
        args: &["-f", "tfe-admin.fifo"],
        expected: &["tfe-admin.fifo: is a FIFO (named pipe), not a YAML file"],
        ..CASE
    },
    Case {
        name: "/dev/zero passed as -f is refused, not read",
        args: &["-f", "/dev/zero"],
        expected: &["/dev/zero: is a character device, not a YAML file"],
        ..CASE
    },
    Case {
        name: "${file:...} with an absolute path",
        files: &[(
            Y,
            yaml!("customization:", "  footer: ${file:/proc/self/environ}"),
        )],
        env: &[("TFE_TOKEN", "canary-token-in-environ")],
        expected: &[
            "tfe-admin.yaml:2:11: customization.footer: `${file:/proc/self/environ}` is an absolute path: a file reference is relative to the YAML file and stays in its directory",
        ],
        secrets: &["canary-token-in-environ"],
        ..CASE
    },
    Case {
        name: "${file:...} leading out with ..",
        files: &[
            (
                "conf/tfe-admin.yaml",
                yaml!("smtp:", "  host: ${file:../outside}"),
            ),
            ("outside", b"outside-canary\n"),
        ],
        args: &["-f", "conf/tfe-admin.yaml"],
        expected: &[
            "conf/tfe-admin.yaml:2:9: smtp.host: `${file:../outside}` leads out of the YAML file's directory with `..`: a file reference stays in that directory",
        ],
        secrets: &["outside-canary"],
        ..CASE
    },
    Case {
        name: "${file:...} through symbolic links out, to a FIFO, and inside",
        files: &[
            (
                Y,
                yaml!(
                    "smtp:",
                    "  host: ${file:secrets/host-link}",
                    "  username: ${file:secrets/passwd}",
                    "  sender: ${file:secrets/zero}",
                    "customization:",
                    "  footer: ${file:secrets/fifo}",
                    "  error: ${file:secrets}",
                ),
            ),
            ("secrets/real-host", b"smtp.example.com\n"),
        ],
        setup: Some(secret_links),
        expected: &[
            "tfe-admin.yaml:3:13: smtp.username: `${file:secrets/passwd}` is a symbolic link (or passes through one) to a file outside the YAML file's directory: a file reference stays in that directory",
            "tfe-admin.yaml:4:11: smtp.sender: `${file:secrets/zero}` is a symbolic link (or passes through one) to a file outside the YAML file's directory: a file reference stays in that directory",
            "tfe-admin.yaml:6:11: customization.footer: file secrets/fifo (referenced as `${file:secrets/fifo}`) is a FIFO (named pipe), not a regular file",
            "tfe-admin.yaml:7:10: customization.error: file secrets (referenced as `${file:secrets}`) is a directory, not a regular file",
        ],
        secrets: &["root:"],
        ..CASE
    },
    Case {
        name: "invalid value from a ${file:...} is not echoed",
        files: &[
            (
                "conf/tfe-admin.yaml",
                yaml!("saml:", "  sso-endpoint-url: ${file:sso-url}"),
            ),
            ("conf/sso-url", b"http://idp.internal.example.com/sso\n"),
        ],
        args: &["-f", "conf/tfe-admin.yaml"],
        expected: &[
            "conf/tfe-admin.yaml:2:21: saml.sso-endpoint-url: must be a URL starting with https:// (or empty to unset)",
        ],
        secrets: &["idp.internal.example.com"],
        ..CASE
    },
    Case {
        name: "unknown reference scheme",
        files: &[(Y, yaml!("smtp:", "  host: ${vault:x}"))],
        expected: &[
            "tfe-admin.yaml:2:9: smtp.host: unknown kind of reference: use `${env:NAME}` or `${file:path}` (write `$${` for a literal `${`)",
        ],
        ..CASE
    },
    Case {
        name: "unterminated reference",
        files: &[(Y, yaml!("smtp:", "  host: \"${env:TFE_SMTP_HOST\""))],
        expected: &[
            "tfe-admin.yaml:2:9: smtp.host: unterminated reference: a `${` without its closing `}` (write `$${` for a literal `${`)",
        ],
        ..CASE
    },
    // --- Completeness rules --------------------------------------------------------------
    Case {
        name: "smtp enabled with a blank host",
        files: &[(
            Y,
            yaml!(
                "smtp:",
                "  enabled: true",
                "  host: \"  \"",
                "  port: 25",
                "  sender: tfe@example.com",
            ),
        )],
        expected: &["tfe-admin.yaml:3:9: smtp.host: must have a value when `smtp.enabled` is true"],
        ..CASE
    },
    Case {
        name: "smtp auth login with a blank username",
        files: &[(
            Y,
            yaml!(
                "smtp:",
                "  enabled: true",
                "  auth: login",
                "  username: \"\""
            ),
        )],
        expected: &["tfe-admin.yaml:4:13: smtp.username: must have a value when `auth` is `login`"],
        ..CASE
    },
    Case {
        name: "twilio enabled with a blank account-sid",
        files: &[(
            Y,
            yaml!("twilio:", "  enabled: true", "  account-sid: \"\""),
        )],
        expected: &[
            "tfe-admin.yaml:3:16: twilio.account-sid: must have a value when `twilio.enabled` is true",
        ],
        ..CASE
    },
    Case {
        name: "cost-estimation enabled with every credential blank",
        files: &[(
            Y,
            yaml!(
                "cost-estimation:",
                "  enabled: true",
                "  aws-access-key-id: \"\"",
                "  aws-secret-key: \"\"",
                "  gcp-credentials: \"\"",
                "  azure-client-id: \"\"",
                "  azure-client-secret: \"\"",
                "  azure-subscription-id: \"\"",
                "  azure-tenant-id: \"\"",
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:12: cost-estimation.enabled: needs one complete set of credentials: aws-access-key-id and aws-secret-key, or gcp-credentials, or the four azure-* attributes",
        ],
        ..CASE
    },
    Case {
        name: "scim enabled while saml.enabled is false",
        files: &[(
            Y,
            yaml!("saml:", "  enabled: false", "scim:", "  enabled: true"),
        )],
        expected: &[
            "tfe-admin.yaml:4:12: scim.enabled: SCIM needs SAML: `saml.enabled` must be true",
        ],
        ..CASE
    },
    // --- Everything reported in one run --------------------------------------------------
    Case {
        name: "every problem of a file is reported, in file order",
        files: &[(
            Y,
            yaml!(
                "general:",
                "  api-rate-limit: 29",
                "  plan-timeout: 2x",
                "  stacks-entitled: true",
                "smtp:",
                "  host: ${env:TFE_SMTP_HOST}",
                "  port: 70000",
                "  sender: not-an-email",
                "  auth: cram-md5",
                "  password: hunter2",
                "saml:",
                "  sso-endpoint-url: http://idp.example.com/sso",
                "genral: {}",
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:19: general.api-rate-limit: must be at least 30 (found 29)",
            "tfe-admin.yaml:3:17: general.plan-timeout: not a duration (found \"2x\"): write a number and a unit (h, m, s, ms), like 90m, 2h or 1h30m",
            "tfe-admin.yaml:4:3: general.stacks-entitled: `stacks-entitled` is read-only: TFE sets it itself; remove it from the file",
            "tfe-admin.yaml:6:9: smtp.host: environment variable TFE_SMTP_HOST is not set (referenced as `${env:TFE_SMTP_HOST}`)",
            "tfe-admin.yaml:7:9: smtp.port: must be at most 65535 (found 70000)",
            "tfe-admin.yaml:8:11: smtp.sender: not an e-mail address (found \"not-an-email\")",
            "tfe-admin.yaml:9:9: smtp.auth: must be one of: none, plain, login, xoauth2 (found \"cram-md5\")",
            "tfe-admin.yaml:10:13: smtp.password: literal secret: reference it as `${env:NAME}` or `${file:path}` (or pass --allow-literal-secrets)",
            "tfe-admin.yaml:12:21: saml.sso-endpoint-url: must be a URL starting with https:// (or empty to unset) (found \"http://idp.example.com/sso\")",
            "tfe-admin.yaml:13:1: genral: unknown section `genral`; did you mean `general`?",
        ],
        secrets: &["hunter2"],
        ..CASE
    },
    // --- Several files -------------------------------------------------------------------
    Case {
        name: "errors in the overlay are reported with the overlay's name",
        files: &[
            (
                "base.yaml",
                yaml!(
                    "general:",
                    "  api-rate-limit: 30",
                    "smtp:",
                    "  host: mail.example.com",
                    "  port: 25",
                ),
            ),
            (
                "prod.yaml",
                yaml!("general:", "  api-rate-limit: 10", "smtp:", "  port: 70000"),
            ),
        ],
        args: &["-f", "base.yaml", "-f", "prod.yaml"],
        expected: &[
            "prod.yaml:2:19: general.api-rate-limit: must be at least 30 (found 10)",
            "prod.yaml:4:9: smtp.port: must be at most 65535 (found 70000)",
        ],
        ..CASE
    },
    Case {
        name: "errors of several files come in the order the files were given",
        files: &[
            ("base.yaml", yaml!("general:", "  api-rate-limit: 10")),
            (
                "prod.yaml",
                yaml!("general:", "  plan-timeout: 2x", "smtp:", "  port: 0"),
            ),
        ],
        args: &["-f", "base.yaml", "-f", "prod.yaml"],
        expected: &[
            "base.yaml:2:19: general.api-rate-limit: must be at least 30 (found 10)",
            "prod.yaml:2:17: general.plan-timeout: not a duration (found \"2x\"): write a number and a unit (h, m, s, ms), like 90m, 2h or 1h30m",
            "prod.yaml:4:9: smtp.port: must be at least 1 (found 0)",
        ],
        ..CASE
    },
    Case {
        name: "a missing overlay is reported beside the base's own errors",
        files: &[("base.yaml", yaml!("smtp:", "  port: 0"))],
        args: &["-f", "base.yaml", "-f", "prod.yaml"],
        expected: &[
            "base.yaml:2:9: smtp.port: must be at least 1 (found 0)",
            "prod.yaml: no such file",
        ],
        ..CASE
    },
    // --- Regressions: each of these was reported wrongly before its fix ------------------
    Case {
        name: "alias bomb (regression: message cut off mid-sentence)",
        files: &[(Y, ALIAS_BOMB)],
        expected: &[
            "tfe-admin.yaml:4:45: (root): too many alias expansions (an alias bomb?): a settings file needs few aliases",
        ],
        ..CASE
    },
    Case {
        name: "several YAML documents (regression: spoke of size and printed a Debug value)",
        files: &[(Y, yaml!("general: {}", "---", "smtp: {}"))],
        expected: &[
            "tfe-admin.yaml:2:1: (root): a desired-state file holds one YAML document; this is a second one (after `---`)",
        ],
        ..CASE
    },
    Case {
        name: "policy attribute out of range (regression: vague anyOf message at the section)",
        files: &[(
            Y,
            yaml!("data-retention-policy:", "  delete-older-than-n-days: 0"),
        )],
        expected: &[
            "tfe-admin.yaml:2:29: data-retention-policy.delete-older-than-n-days: must be at least 1 (found 0)",
        ],
        ..CASE
    },
    Case {
        name: "policy attribute typo (regression: a second, vague line followed the suggestion)",
        files: &[(
            Y,
            yaml!("data-retention-policy:", "  delete-older-than-n-day: 3"),
        )],
        expected: &[
            "tfe-admin.yaml:2:3: data-retention-policy.delete-older-than-n-day: unknown attribute `delete-older-than-n-day` in `data-retention-policy`; did you mean `delete-older-than-n-days`?",
        ],
        ..CASE
    },
    Case {
        name: "failed reference in a secret (regression: also called a literal secret)",
        files: &[(Y, yaml!("smtp:", "  password: ${env:TFE_SMTP_PASSWORD}"))],
        expected: &[
            "tfe-admin.yaml:2:13: smtp.password: environment variable TFE_SMTP_PASSWORD is not set (referenced as `${env:TFE_SMTP_PASSWORD}`)",
        ],
        ..CASE
    },
    Case {
        name: "broken reference inside a literal secret (regression: part of it was printed)",
        files: &[(
            Y,
            yaml!(
                "smtp:",
                "  password: \"p4ss${w0rdS3cr3t\"",
                "  client-secret: \"x${S3cr3t:y}\""
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:13: smtp.password: unterminated reference: a `${` without its closing `}` (write `$${` for a literal `${`)",
            "tfe-admin.yaml:3:18: smtp.client-secret: unknown kind of reference: use `${env:NAME}` or `${file:path}` (write `$${` for a literal `${`)",
        ],
        secrets: &["w0rdS3cr3t", "S3cr3t"],
        ..CASE
    },
    Case {
        name: "unknown keys in a list item (regression: placed at the item, typo swallowed)",
        files: &[(
            Y,
            yaml!(
                "customization:",
                "  avatar-sources:",
                "    - source: saml",
                "      enabld: true",
                "      priority: 1",
            ),
        )],
        expected: &[
            "tfe-admin.yaml:3:7: customization.avatar-sources[0]: missing `enabled`",
            "tfe-admin.yaml:4:7: customization.avatar-sources[0].enabld: unknown key `enabld`; did you mean `enabled`?",
            "tfe-admin.yaml:5:7: customization.avatar-sources[0].priority: unknown key `priority`; expected enabled, source",
        ],
        ..CASE
    },
    Case {
        name: "wrong type in a list item (regression: printed internal text)",
        files: &[(
            Y,
            yaml!(
                "customization:",
                "  avatar-sources:",
                "    - source: saml",
                "      enabled: \"yes\""
            ),
        )],
        expected: &[
            "tfe-admin.yaml:4:16: customization.avatar-sources[0].enabled: expected a boolean (true or false), found a string",
        ],
        ..CASE
    },
    Case {
        name: "tab on a later line (regression: reported at the previous scalar)",
        files: &[(Y, b"general:\n  api-rate-limit: 30\n\tplan-timeout: 2h\n")],
        expected: &["tfe-admin.yaml:3:1: (root): while scanning a plain scalar, found a tab"],
        ..CASE
    },
    Case {
        name: "number for a duration or an enum (regression: advised quoting, which fails too)",
        files: &[(
            Y,
            yaml!(
                "general:",
                "  plan-timeout: 10",
                "saml:",
                "  provider-type: 1"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:17: general.plan-timeout: expected a duration string like 2h or 90m, found an integer",
            "tfe-admin.yaml:4:18: saml.provider-type: expected one of: okta, entra, saml, unknown, found an integer",
        ],
        ..CASE
    },
    // --- Collections: tool versions --------------------------------------------------------
    Case {
        name: "a version written as a YAML number",
        files: &[(
            Y,
            yaml!("terraform-versions:", "  versions:", "    1.10: {}"),
        )],
        expected: &[
            "tfe-admin.yaml:3:5: (root): the key 1.10 is a number, which YAML reads as 1.1, not text: quote it, as \"1.10\"",
        ],
        ..CASE
    },
    Case {
        name: "a version listed twice",
        files: &[(
            Y,
            yaml!(
                "terraform-versions:",
                "  versions:",
                "    \"1.9.8\": {enabled: true}",
                "    \"1.9.8\": {enabled: false}"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:4:5: (root): duplicate key `1.9.8`: each key may appear once in a mapping",
        ],
        ..CASE
    },
    Case {
        name: "malformed versions",
        files: &[(
            Y,
            yaml!(
                "opa-versions:",
                "  versions:",
                "    \"1.9\": {}",
                "    v1.9.8: {}",
                "    \"1.9.8-\": {}"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:3:5: opa-versions.versions[\"1.9\"]: `1.9` is not a version: expected N.N.N or N.N.N-suffix, like 1.9.8 or 0.12.20-beta1",
            "tfe-admin.yaml:4:5: opa-versions.versions[\"v1.9.8\"]: `v1.9.8` is not a version: expected N.N.N or N.N.N-suffix, like 1.9.8 or 0.12.20-beta1",
            "tfe-admin.yaml:5:5: opa-versions.versions[\"1.9.8-\"]: `1.9.8-` is not a version: expected N.N.N or N.N.N-suffix, like 1.9.8 or 0.12.20-beta1",
        ],
        ..CASE
    },
    Case {
        name: "both archs and url and sha in one version",
        files: &[(
            Y,
            yaml!(
                "terraform-versions:",
                "  versions:",
                "    \"1.9.8\":",
                "      archs: [{os: linux, arch: amd64, url: \"https://r.example/t.zip\", sha: 9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f}]",
                "      url: https://r.example/t.zip",
                "      sha: 9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:5:12: terraform-versions.versions[\"1.9.8\"].url: give either `archs` or `url` and `sha`, not both: `url` is the older form of the linux/amd64 entry of `archs`",
            "tfe-admin.yaml:6:12: terraform-versions.versions[\"1.9.8\"].sha: give either `archs` or `url` and `sha`, not both: `sha` is the older form of the linux/amd64 entry of `archs`",
        ],
        ..CASE
    },
    Case {
        name: "url without sha",
        files: &[(
            Y,
            yaml!(
                "sentinel-versions:",
                "  versions:",
                "    \"0.24.0\": {url: \"https://r.example/s.zip\"}"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:3:21: sentinel-versions.versions[\"0.24.0\"].url: `url` needs `sha` beside it (the older form is both), or use `archs`",
        ],
        ..CASE
    },
    Case {
        name: "an architecture listed twice, an http URL, a short checksum",
        files: &[(
            Y,
            yaml!(
                "terraform-versions:",
                "  versions:",
                "    \"1.9.8\":",
                "      archs:",
                "        - {os: linux, arch: arm64, url: \"http://r.example/a.zip\", sha: 9f3c}",
                "        - {os: linux, arch: amd64, url: \"https://r.example/b.zip\", sha: 9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f}",
                "        - {os: linux, arch: amd64, url: \"https://r.example/c.zip\", sha: 9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f}",
                "        - {os: linux, arch: sparc, url: \"https://r.example/d.zip\", sha: 9f3c2a1b0e4d5c6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f}"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:5:41: terraform-versions.versions[\"1.9.8\"].archs[0].url: must be a URL starting with https:// (found \"http://r.example/a.zip\")",
            "tfe-admin.yaml:5:72: terraform-versions.versions[\"1.9.8\"].archs[0].sha: not a SHA-256 checksum (found \"9f3c\"): expected 64 hexadecimal characters",
            "tfe-admin.yaml:7:11: terraform-versions.versions[\"1.9.8\"].archs[2]: linux/amd64 is listed twice in `archs`: each os and arch once",
            "tfe-admin.yaml:8:29: terraform-versions.versions[\"1.9.8\"].archs[3].arch: must be one of: amd64, arm64, s390x (found \"sparc\")",
        ],
        ..CASE
    },
    Case {
        name: "a deprecation reason without deprecated, and read-only usage",
        files: &[(
            Y,
            yaml!(
                "terraform-versions:",
                "  versions:",
                "    \"1.5.7\":",
                "      deprecated-reason: use 1.9",
                "      usage: 3"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:4:26: terraform-versions.versions[\"1.5.7\"].deprecated-reason: `deprecated-reason` needs `deprecated: true` in the same version (the API keeps a reason only for a deprecated version)",
            "tfe-admin.yaml:5:7: terraform-versions.versions[\"1.5.7\"].usage: `usage` is read-only: TFE sets it itself; remove it from the file",
        ],
        ..CASE
    },
    Case {
        name: "an unknown attribute of a version, and prune not a boolean",
        files: &[(
            Y,
            yaml!(
                "terraform-versions:",
                "  prune: \"yes\"",
                "  versions:",
                "    \"1.9.8\": {enabeld: false}",
                "  \"1.9.7\": {}",
                "  versoins: {}"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:2:10: terraform-versions.prune: expected a boolean (true or false), found a string",
            "tfe-admin.yaml:4:15: terraform-versions.versions[\"1.9.8\"].enabeld: unknown attribute `enabeld` in `terraform-versions`; did you mean `enabled`?",
            "tfe-admin.yaml:5:3: terraform-versions[\"1.9.7\"]: `1.9.7` belongs under `versions:` (the section holds `prune` and `versions`)",
            "tfe-admin.yaml:6:3: terraform-versions.versoins: unknown key `versoins`; did you mean `versions`?",
        ],
        ..CASE
    },
    Case {
        name: "a version with nothing, a section with nothing",
        files: &[(
            Y,
            yaml!(
                "terraform-versions:",
                "  versions:",
                "    \"1.9.8\":",
                "opa-versions:"
            ),
        )],
        expected: &[
            "tfe-admin.yaml:3:12: terraform-versions.versions[\"1.9.8\"]: expected a mapping of attributes (`{}` to only require that it exists), found nothing",
            "tfe-admin.yaml:4:1: opa-versions: `opa-versions` is empty: give it `versions` (and `prune`), or remove it to leave the section unmanaged",
        ],
        ..CASE
    },
    Case {
        name: "a file that is just null",
        files: &[(Y, yaml!("null"))],
        expected: &[
            "tfe-admin.yaml:1:1: (root): the file holds no settings (it is empty or null): expected a mapping of settings sections, like `general:` (write `{}` to manage nothing)",
        ],
        ..CASE
    },
];

/// What a run printed and how it ended.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Writes `files` into a fresh temporary directory, prepares it with `setup`, and runs
/// `tfe-admin validate ARGS` there with only the `env` variables set.
fn run(
    label: &str,
    files: &[(&str, &[u8])],
    setup: Option<fn(&Path)>,
    env: &[(&str, &str)],
    args: &[&str],
) -> Run {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => panic!("[{label}] cannot create a temporary directory: {e}"),
    };
    for (name, bytes) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent()
            && let Err(e) = fs::create_dir_all(parent)
        {
            panic!("[{label}] cannot create {}: {e}", parent.display());
        }
        if let Err(e) = fs::write(&path, bytes) {
            panic!("[{label}] cannot write {}: {e}", path.display());
        }
    }
    if let Some(setup) = setup {
        setup(dir.path());
    }
    let mut command = match Command::cargo_bin("tfe-admin") {
        Ok(command) => command,
        Err(e) => panic!("cannot find the tfe-admin binary: {e}"),
    };
    command
        .current_dir(dir.path())
        .env_clear()
        .envs(env.iter().copied())
        .arg("validate")
        .args(args)
        .timeout(Duration::from_mins(1));
    let output = match command.output() {
        Ok(output) => output,
        Err(e) => panic!("[{label}] cannot run tfe-admin: {e}"),
    };
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The `FILE:LINE:COL: path: message` lines: everything before the `error:` summary.
fn diagnostics(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .take_while(|line| !line.starts_with("error: "))
        .collect()
}

/// Runs one case and describes every way its outcome differs from the expectation.
fn check(case: &Case) -> Vec<String> {
    let Run {
        code,
        stdout,
        stderr,
    } = run(case.name, case.files, case.setup, case.env, case.args);
    let mut problems = Vec::new();
    if code != Some(1) {
        problems.push(format!("exit code {code:?}, expected 1"));
    }
    if !stdout.is_empty() {
        problems.push(format!("standard output is not empty: {stdout:?}"));
    }
    if stderr.contains("panicked") {
        problems.push("the process panicked".to_owned());
    }
    for secret in case.secrets {
        if stdout.contains(secret) || stderr.contains(secret) {
            problems.push(format!("the output shows the secret {secret:?}"));
        }
    }
    let diagnostics = diagnostics(&stderr);
    if diagnostics != case.expected {
        problems.push(format!(
            "diagnostics differ\n  expected:\n{}\n  actual:\n{}",
            indent(case.expected.iter().copied()),
            indent(diagnostics.iter().copied()),
        ));
    }
    let errors = case
        .expected
        .iter()
        .filter(|line| !line.contains(": warning: "))
        .count();
    let summary = format!(
        "error: the desired state is invalid: {errors} error{} in ",
        if errors == 1 { "" } else { "s" }
    );
    if !stderr.lines().any(|line| line.starts_with(&summary)) {
        problems.push(format!("no summary line starting with {summary:?}"));
    }
    if !problems.is_empty() {
        problems.push(format!("full standard error:\n{}", indent(stderr.lines())));
    }
    problems
}

fn indent<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_bad_input_is_reported_precisely() {
    assert!(CASES.len() >= 45, "the table has {} cases", CASES.len());
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "case names must be unique");

    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|case| {
            let problems = check(case);
            (!problems.is_empty())
                .then(|| format!("case {:?}:\n  {}", case.name, problems.join("\n  ")))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n\n")
    );
}

/// A billion-laughs document: ten levels of ten aliases each.
const ALIAS_BOMB: &[u8] = yaml!(
    "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    "a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]",
    "a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]",
    "a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]",
    "a4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]",
    "a5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]",
    "a6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]",
    "a7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]",
    "a8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]",
    "a9: &a9 [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]",
);

/// `-f base -f overlay`: the files merge key by key, the later one wins, the completeness
/// rules see the merged values, and a problem is reported in the file that holds it.
#[test]
fn files_merge_key_by_key_and_errors_name_the_file_that_holds_them() {
    let base: (&str, &[u8]) = (
        "base.yaml",
        yaml!(
            "general:",
            "  api-rate-limit: 10",
            "  plan-timeout: 2h",
            "smtp:",
            "  host: mail.example.com",
            "  port: 25",
        ),
    );
    let overlay: (&str, &[u8]) = ("prod.yaml", yaml!("general:", "  api-rate-limit: 60"));

    // The overlay's valid value replaces the base's invalid one; the rest is kept.
    let out = run(
        "merge",
        &[base, overlay],
        None,
        &[],
        &["-f", "base.yaml", "-f", "prod.yaml"],
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "Valid: 2 sections with 4 attributes (base.yaml, prod.yaml).\n"
    );
    assert_eq!(out.stderr, "");

    // Given the other way round, the base's invalid value wins and is reported there.
    let out = run(
        "reversed",
        &[base, overlay],
        None,
        &[],
        &["-f", "prod.yaml", "-f", "base.yaml"],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        diagnostics(&out.stderr),
        ["base.yaml:2:19: general.api-rate-limit: must be at least 30 (found 10)"]
    );
    assert!(
        out.stderr
            .contains("error: the desired state is invalid: 1 error in prod.yaml, base.yaml\n"),
        "{}",
        out.stderr
    );

    // A rule broken only by the merged values is reported in the overlay that broke it.
    let enabling: (&str, &[u8]) = (
        "prod.yaml",
        yaml!(
            "general:",
            "  api-rate-limit: 60",
            "smtp:",
            "  enabled: true",
            "  host: \"\"",
            "  sender: tfe@example.com",
        ),
    );
    let out = run(
        "rule",
        &[base, enabling],
        None,
        &[],
        &["-f", "base.yaml", "-f", "prod.yaml"],
    );
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        diagnostics(&out.stderr),
        ["prod.yaml:5:9: smtp.host: must have a value when `smtp.enabled` is true"]
    );
}
