//! Reading variables: the one reader every component's settings parse themselves with
//! (`…::from_env(&Environment)`), so that a bad value always fails the same way, with
//! [`Error::Config`] naming the variable. Empty values count as unset.

use crate::Error;
use crate::secret::{Secret, SecretSource};

/// Reads the file a variable names (`OTP_MESSAGES_FILE`, `LEGACY_DATABASE_CA_FILE`) at cold
/// start: a regular file of at most `max_bytes`, else an error naming `variable`. Never more than
/// `max_bytes + 1` bytes are read, and nothing that is not a regular file is opened for reading
/// (`/dev/zero` would never end, a FIFO or `/dev/stdin` would block the cold start).
pub fn read_config_file(
    variable: &'static str,
    path: &std::path::Path,
    max_bytes: usize,
) -> Result<Vec<u8>, Error> {
    use std::io::Read as _;
    let metadata = std::fs::metadata(path).map_err(|error| {
        Error::config(variable, format!("cannot read the file: {}", error.kind()))
    })?;
    if !metadata.is_file() {
        return Err(Error::config(variable, "does not name a regular file"));
    }
    let file = std::fs::File::open(path).map_err(|error| {
        Error::config(variable, format!("cannot read the file: {}", error.kind()))
    })?;
    let limit = u64::try_from(max_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).map_err(|error| {
        Error::config(variable, format!("cannot read the file: {}", error.kind()))
    })?;
    if bytes.len() > max_bytes {
        return Err(Error::config(
            variable,
            format!("is larger than {max_bytes} bytes"),
        ));
    }
    Ok(bytes)
}

/// Where variables come from: the process environment in production, a map in tests.
pub struct Environment<'a>(&'a dyn Fn(&str) -> Option<String>);

impl std::fmt::Debug for Environment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Environment")
    }
}

impl<'a> Environment<'a> {
    /// Variables read through `lookup`.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self(lookup)
    }

    /// The trimmed value; `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    /// A whole number within `range`, `default` when unset.
    pub fn number<T>(
        &self,
        name: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, Error>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(text) = self.get(name) else {
            return Ok(default);
        };
        match text.parse::<T>() {
            Ok(value) if range.contains(&value) => Ok(value),
            _ => Err(Error::config(
                name,
                format!(
                    "must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        }
    }

    /// A `true`/`false` variable (also `1`/`0`, `yes`/`no`); false when unset.
    pub fn flag(&self, name: &'static str) -> Result<bool, Error> {
        match self
            .get(name)
            .map(|value| value.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("false" | "0" | "no") => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some(_) => Err(Error::config(name, "must be true or false")),
        }
    }

    /// A comma-separated list, blanks dropped; `None` when unset.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        self.get(name).map(|list| {
            list.split(',')
                .map(|item| item.trim().to_owned())
                .filter(|item| !item.is_empty())
                .collect()
        })
    }

    /// Either the plain variable or its `…_ARN` twin (Secrets Manager), not both.
    pub fn secret(
        &self,
        plain: &'static str,
        arn: &'static str,
    ) -> Result<Option<SecretSource>, Error> {
        match (self.get(plain), self.get(arn)) {
            (Some(_), Some(_)) => Err(Error::config(
                arn,
                format!("set either {plain} or {arn}, not both"),
            )),
            (Some(value), None) => Ok(Some(SecretSource::Value(Secret::new(value)))),
            (None, Some(arn_value)) => Ok(Some(SecretSource::SecretsManager {
                variable: arn,
                arn: arn_value,
            })),
            (None, None) => Ok(None),
        }
    }

    /// A URL that must be [`is_safe_url`].
    pub fn safe_url(&self, name: &'static str) -> Result<Option<String>, Error> {
        match self.get(name) {
            Some(url) if !is_safe_url(&url) => Err(Error::config(
                name,
                "must be an https:// URL (http:// only for localhost or 127.0.0.1)",
            )),
            other => Ok(other),
        }
    }
}

/// Whether `url` is `https://…`, or `http://` to this machine (local services and tests).
pub fn is_safe_url(url: &str) -> bool {
    if url.starts_with("https://") && url.len() > "https://".len() {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}
