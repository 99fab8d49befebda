//! Errors shown to users. Bad input is an [`InputError`] naming the file, line, column
//! and field, rendered by `miette` with a snippet of the offending source; it maps to
//! exit code 2. Nothing here panics on user input.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::path::Path;

/// A problem with user input, located in a file.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{file}:{line}:{column}: {}{message}", field_prefix(field))]
pub struct InputError {
    /// The file (as given by the user, or `<inline>`/`<embedded>`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The field path (`spec.template.spec.containers[0].resources.requests.cpu`), or empty.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// The source text, for the snippet.
    #[source_code]
    pub src: Option<NamedSource<String>>,
    /// Where in the source.
    #[label("here")]
    pub span: Option<SourceSpan>,
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() {
        String::new()
    } else {
        format!("{field}: ")
    }
}

impl InputError {
    /// An error at a known position.
    pub fn at(
        file: &str,
        line: usize,
        column: usize,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        InputError {
            file: file.to_string(),
            line: line.max(1),
            column: column.max(1),
            field: field.to_string(),
            message: message.into(),
            src: None,
            span: None,
        }
    }

    /// An error at a YAML value's position (`Spanned` from serde-saphyr), with the whole
    /// source text attached for the snippet.
    pub fn at_spanned<T>(
        file: &str,
        text: &str,
        value: &serde_saphyr::Spanned<T>,
        field: &str,
        message: impl Into<String>,
    ) -> Self {
        InputError::at(
            file,
            value.referenced.line() as usize,
            value.referenced.column() as usize,
            field,
            message,
        )
        .with_source(text)
    }

    /// Attaches the whole source text so miette can show a snippet at (line, column).
    pub fn with_source(mut self, text: &str) -> Self {
        let offset = offset_of(text, self.line, self.column);
        self.span = Some(SourceSpan::from((offset, 0usize)));
        self.src = Some(NamedSource::new(self.file.clone(), text.to_string()));
        self
    }
}

/// The byte offset of a 1-based (line, column) in `text` (clamped to the text).
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = l
                .char_indices()
                .nth(column.saturating_sub(1))
                .map(|(o, _)| o)
                .unwrap_or(l.len());
            return offset + col;
        }
        offset += l.len();
    }
    text.len()
}

/// Every error kubetwin reports.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum Error {
    /// Bad input, located in a file.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(Box<InputError>),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Bad command-line usage not caught by the argument parser.
    #[error("{0}")]
    Usage(String),
    /// A bug or an impossible state: reported, never a panic.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::Input(Box::new(e))
    }
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// Shorthand result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
