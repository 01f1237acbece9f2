//! The error type every library function returns, and the exit code each kind maps to.
//!
//! Exit codes are a contract (README "Exit codes"): 0 success, 1 runtime
//! failure, 2 bad usage / config / input, 3 a shallow clone that cannot be planned.

use std::fmt;

/// What went wrong, in words a user can act on. `hint` is printed on its own line.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad CLI value, config, template or other input the user controls (exit 2).
    Input,
    /// Something failed while doing the work: I/O, git, network (exit 1).
    Runtime,
    /// The repository is a shallow clone: history is missing (exit 3).
    Shallow,
}

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Input,
            message: message.into(),
            hint: None,
        }
    }
    pub fn runtime(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Runtime,
            message: message.into(),
            hint: None,
        }
    }
    pub fn shallow(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Shallow,
            message: message.into(),
            hint: None,
        }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Runtime => 1,
            ErrorKind::Input => 2,
            ErrorKind::Shallow => 3,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Adds the "while doing what" to a lower-level error.
pub trait Context<T> {
    fn runtime_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn runtime_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::runtime(format!("{}: {e}", what())))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
