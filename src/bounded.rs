//! The one bounded reader: every file and every response body the tool reads goes through
//! here, with the bound of what it is reading ([`Limit`]). A file is opened without blocking
//! (a FIFO with no writer would otherwise hang the open) and refused, by the type of the
//! opened handle (not by a `stat` before the open, which a swap could race), unless it is a
//! regular file; then at most the bound is read, counting the bytes actually read: a size the
//! file system reports is only a hint (`/proc` files report 0, a file may grow meanwhile).
//! A body that arrives in chunks is collected by [`Collector`] under the same rule. Reads
//! only what it is given; decides nothing about what the bytes mean.

use std::fmt;
use std::io::Read as _;
use std::path::Path;

/// How much may be read from one source, and what that source is (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub bytes: usize,
    /// What is read, as messages name it ("a desired-state file").
    pub what: &'static str,
}

const MIB: usize = 1024 * 1024;

/// A desired-state YAML file: far above any real settings file, far below what could hurt.
pub const DESIRED_STATE: Limit = Limit {
    bytes: MIB,
    what: "a desired-state file",
};
/// A `${file:...}` reference: the same bound as the YAML that holds it.
pub const SECRET_FILE: Limit = Limit {
    bytes: MIB,
    what: "a `${file:...}` value",
};
/// `--ca-cert` / `TFE_CA_CERT`: a bundle of every public root is about 200 KiB.
pub const CA_BUNDLE: Limit = Limit {
    bytes: MIB,
    what: "a CA certificate file",
};
/// The sandbox's `--tls-cert` / `--tls-key`: a certificate chain is a few KiB.
pub const TLS_FILE: Limit = Limit {
    bytes: MIB,
    what: "a TLS certificate or key file",
};
/// The Terraform CLI credentials file.
pub const CREDENTIALS: Limit = Limit {
    bytes: MIB,
    what: "a credentials file",
};
/// A saved plan: the calls and the live values they were planned against.
pub const SAVED_PLAN: Limit = Limit {
    bytes: 8 * MIB,
    what: "a saved plan",
};
/// The sandbox's state file (what an installation's settings database holds).
pub const SANDBOX_STATE: Limit = Limit {
    bytes: 64 * MIB,
    what: "a sandbox state file",
};
/// A response body from the API: settings documents are a few kilobytes, a page of a
/// collection (100 items) a few hundred.
pub const RESPONSE_BODY: Limit = Limit {
    bytes: 8 * MIB,
    what: "a response body",
};
/// A request body the sandbox accepts: TFE's settings documents are a few kilobytes.
pub const REQUEST_BODY: Limit = Limit {
    bytes: 4 * MIB,
    what: "a request body",
};

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes.is_multiple_of(MIB) {
            write!(f, "{} MiB", self.bytes / MIB)
        } else {
            write!(f, "{} bytes", self.bytes)
        }
    }
}

/// Why a source was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The path cannot be opened (missing, no permission).
    #[error("{0}")]
    Open(#[source] std::io::Error),
    /// Not a regular file: a directory, FIFO, device or socket.
    #[error("it is {kind}, not a regular file")]
    NotAFile { kind: &'static str },
    /// More than the bound; `size` when the file system said so before reading.
    #[error("{}", too_large(*size, *limit))]
    TooLarge { size: Option<u64>, limit: Limit },
    /// The read itself failed.
    #[error("{0}")]
    Read(#[source] std::io::Error),
}

fn too_large(size: Option<u64>, limit: Limit) -> String {
    match size {
        Some(size) => format!(
            "it is {size} bytes; {} may have at most {} ({limit})",
            limit.what, limit.bytes
        ),
        None => format!(
            "it holds more than {} bytes ({limit}), the most {} may have",
            limit.bytes, limit.what
        ),
    }
}

/// Reads a whole regular file, at most `limit` bytes of it.
///
/// # Errors
/// The file cannot be opened or read, is not a regular file, or holds more than the limit.
pub fn read_file(path: &Path, limit: Limit) -> Result<Vec<u8>, ReadError> {
    let file = open(path).map_err(ReadError::Open)?;
    // `metadata` on the handle is an fstat of what was opened, not of what the path names now.
    let metadata = file.metadata().map_err(ReadError::Read)?;
    let file_type = metadata.file_type();
    if !file_type.is_file() {
        return Err(ReadError::NotAFile {
            kind: kind_of(file_type),
        });
    }
    if metadata.len() > limit.bytes as u64 {
        return Err(ReadError::TooLarge {
            size: Some(metadata.len()),
            limit,
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0) + 1);
    // One byte past the bound tells "exactly the bound" from "more".
    file.take(limit.bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Read)?;
    if bytes.len() > limit.bytes {
        return Err(ReadError::TooLarge { size: None, limit });
    }
    Ok(bytes)
}

/// Opens for reading without blocking: opening a FIFO that has no writer would wait forever,
/// and a terminal must not become the controlling one.
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    options.open(path)
}

/// How a message names a file type that is not a regular file.
fn kind_of(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

/// Collects a body that arrives in chunks, refusing more than its limit.
#[derive(Debug)]
pub struct Collector {
    limit: Limit,
    bytes: Vec<u8>,
}

impl Collector {
    /// Starts a body; `announced` is the length the sender declared (`Content-Length`), which
    /// is refused at once when it is beyond the limit. It is only believed that far: the
    /// bytes that actually arrive are counted.
    ///
    /// # Errors
    /// An announced length beyond the limit.
    pub fn new(limit: Limit, announced: Option<u64>) -> Result<Self, ReadError> {
        if let Some(size) = announced.filter(|s| *s > limit.bytes as u64) {
            return Err(ReadError::TooLarge {
                size: Some(size),
                limit,
            });
        }
        let capacity = announced.map_or(0, |s| usize::try_from(s).unwrap_or(0));
        Ok(Collector {
            limit,
            bytes: Vec::with_capacity(capacity.min(64 * 1024)),
        })
    }

    /// Adds a chunk.
    ///
    /// # Errors
    /// The body grows beyond the limit; nothing more should be read.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ReadError> {
        if self.bytes.len() + chunk.len() > self.limit.bytes {
            return Err(ReadError::TooLarge {
                size: None,
                limit: self.limit,
            });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// The whole body.
    #[must_use]
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: Limit = Limit {
        bytes: 8,
        what: "a test file",
    };

    fn dir() -> tempfile::TempDir {
        match tempfile::tempdir() {
            Ok(d) => d,
            Err(e) => panic!("tempdir: {e}"),
        }
    }

    #[test]
    fn a_file_within_the_bound_is_read_whole() {
        let dir = dir();
        let path = dir.path().join("f");
        if let Err(e) = std::fs::write(&path, b"12345678") {
            panic!("{e}");
        }
        assert_eq!(read_file(&path, TINY).ok(), Some(b"12345678".to_vec()));
        if let Err(e) = std::fs::write(&path, b"123456789") {
            panic!("{e}");
        }
        let Err(e) = read_file(&path, TINY) else {
            panic!("read beyond the bound")
        };
        assert_eq!(
            e.to_string(),
            "it is 9 bytes; a test file may have at most 8 (8 bytes)"
        );
    }

    #[test]
    fn directories_are_refused_by_type() {
        let dir = dir();
        assert!(matches!(
            read_file(dir.path(), TINY),
            Err(ReadError::NotAFile {
                kind: "a directory"
            })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn devices_and_fifos_are_refused_without_reading_or_hanging() {
        assert!(matches!(
            read_file(Path::new("/dev/zero"), DESIRED_STATE),
            Err(ReadError::NotAFile {
                kind: "a character device"
            })
        ));
        let dir = dir();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
        // No writer: a blocking open would never return.
        assert!(matches!(
            read_file(&fifo, DESIRED_STATE),
            Err(ReadError::NotAFile {
                kind: "a FIFO (named pipe)"
            })
        ));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn bytes_are_counted_not_the_size_the_file_system_reports() {
        // /proc files report a size of 0 and hold more.
        let limit = Limit {
            bytes: 16,
            what: "a test file",
        };
        let Err(e) = read_file(Path::new("/proc/self/maps"), limit) else {
            panic!("read beyond the bound")
        };
        assert!(matches!(e, ReadError::TooLarge { size: None, .. }), "{e}");
    }

    #[test]
    fn bodies_are_cut_at_the_bound_and_announced_lengths_refused_at_once() {
        assert!(Collector::new(TINY, Some(9)).is_err());
        let Ok(mut body) = Collector::new(TINY, Some(2)) else {
            panic!()
        };
        assert!(body.push(b"1234").is_ok());
        assert!(body.push(b"5678").is_ok());
        let Err(e) = body.push(b"9") else {
            panic!("grew beyond the bound")
        };
        assert_eq!(
            e.to_string(),
            "it holds more than 8 bytes (8 bytes), the most a test file may have"
        );
        assert_eq!(
            RESPONSE_BODY.to_string(),
            "8 MiB",
            "limits are named in MiB"
        );
    }
}
