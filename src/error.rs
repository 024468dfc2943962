//! The one error type of the core. Every message names the argument (or tensor, or layer) it is
//! about, because the page shows it to a student verbatim.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What the message is about: an argument name such as `scale` or `options.bits`.
    pub subject: String,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Error {
            subject: subject.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subject, self.message)
    }
}

impl std::error::Error for Error {}

/// `bail!("scale", "must be > 0, found {s}")` returns early with an [`Error`].
#[macro_export]
macro_rules! bail {
    ($subject:expr, $($fmt:tt)+) => {
        return Err($crate::Error::new($subject, format!($($fmt)+)))
    };
}
