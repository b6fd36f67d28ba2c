//! Why a command stopped, and a message of the command line's own carried inside a core
//! error.

use std::error::Error as StdError;

use migrate_core::{BoxError, Error};

/// Why a command stopped.
pub(crate) enum Failure {
    /// The command line is wrong (exit 2).
    Usage(String),
    /// A migration or database error (exit 1).
    Run(BoxError),
}

impl<E: Into<BoxError>> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure::Run(error.into())
    }
}

/// What a command returns: its exit code, or why it stopped.
pub(crate) type Outcome = Result<i32, Failure>;

impl Failure {
    /// The failure as the error of one database of a fan-out: the command's own messages
    /// (a file that does not exist, a URL opened read-only) are shown as they are; a
    /// backend's error keeps its own words.
    pub(crate) fn into_error(self) -> Error {
        let own =
            |error: BoxError| Error::database("open the database", Box::new(CliMessage(error)));
        match self {
            Failure::Usage(message) => own(message.into()),
            Failure::Run(error) => match error.downcast::<Error>() {
                Ok(error) => *error,
                Err(error) => own(error),
            },
        }
    }
}

/// A message of the command line's own about one database of a fan-out (a file that does
/// not exist, a URL that opens it read-only for `up`), carried as the source of an
/// [`Error::Database`]: shown as it is, without that error's advice about reaching a
/// database, which would mislead.
#[derive(Debug)]
pub(crate) struct CliMessage(pub BoxError);

impl std::fmt::Display for CliMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl StdError for CliMessage {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}
