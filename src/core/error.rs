//! The one error type of the core. Its Display form is the message Janet users see:
//! `[CA:CATEGORY] message`.
use std::fmt;

/// A short, quoted rendering of user text for error messages.
pub fn shown(s: &str) -> String {
    let cut: String = s.chars().take(64).collect();
    if cut.len() < s.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// Error categories of the API contract (`[CA:CATEGORY]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// A CA used in a way its state does not allow (e.g. tracking off).
    Config,
    /// A bad argument or option value.
    Param,
    /// Input bytes that do not parse (PEM, DER, CSR, time strings).
    Parse,
    /// OpenSSL itself failed.
    Ssl,
    /// A signature or key check failed.
    Verify,
    /// Out of memory or a size limit.
    Resource,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Config => "CONFIG",
            Category::Param => "PARAM",
            Category::Parse => "PARSE",
            Category::Ssl => "SSL",
            Category::Verify => "VERIFY",
            Category::Resource => "RESOURCE",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaError {
    pub category: Category,
    pub message: String,
}

impl CaError {
    pub fn new(category: Category, message: impl Into<String>) -> Self {
        CaError { category, message: message.into() }
    }
    pub fn config(m: impl Into<String>) -> Self {
        Self::new(Category::Config, m)
    }
    pub fn param(m: impl Into<String>) -> Self {
        Self::new(Category::Param, m)
    }
    pub fn parse(m: impl Into<String>) -> Self {
        Self::new(Category::Parse, m)
    }
    pub fn verify(m: impl Into<String>) -> Self {
        Self::new(Category::Verify, m)
    }
    pub fn resource(m: impl Into<String>) -> Self {
        Self::new(Category::Resource, m)
    }
    /// An OpenSSL failure while doing `what`.
    pub fn ssl(what: &str, err: openssl::error::ErrorStack) -> Self {
        let detail = err
            .errors()
            .iter()
            .map(|e| e.reason().unwrap_or("unknown error").to_string())
            .collect::<Vec<_>>()
            .join("; ");
        if detail.is_empty() {
            Self::new(Category::Ssl, format!("{what} failed"))
        } else {
            Self::new(Category::Ssl, format!("{what} failed: {detail}"))
        }
    }
}

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[CA:{}] {}", self.category.as_str(), self.message)
    }
}

impl std::error::Error for CaError {}

pub type CaResult<T> = Result<T, CaError>;

/// Attach "while doing X" to OpenSSL errors: `.ssl("signing the certificate")?`.
/// `check(name)`, with the name its errors give built only when it fails:
/// a name such as ":san item 2" would otherwise cost a format and an
/// allocation on every call that succeeds. `check` must give the same answer
/// for any name (it only names the value in its messages).
pub fn named_on_error<T>(check: impl Fn(&str) -> CaResult<T>, name: impl FnOnce() -> String) -> CaResult<T> {
    check("").or_else(|_| check(&name()))
}

pub trait SslContext<T> {
    fn ssl(self, what: &str) -> CaResult<T>;
}

impl<T> SslContext<T> for Result<T, openssl::error::ErrorStack> {
    fn ssl(self, what: &str) -> CaResult<T> {
        self.map_err(|e| CaError::ssl(what, e))
    }
}
