//! Binary and zip sizes of the built functions.

use std::path::PathBuf;

use crate::subjects::Trigger;

/// Where one build's outputs are.
#[derive(Debug, Clone)]
pub(crate) struct Build {
    /// `aarch64` or `x86_64`.
    pub arch: String,
    /// The cargo profile.
    pub profile: String,
    /// cargo-lambda's output (`<lambda_dir>/<function>/bootstrap.zip`).
    pub lambda_dir: PathBuf,
    /// The binaries (`<bin_dir>/<function>`).
    pub bin_dir: PathBuf,
}

impl Build {
    /// Parses `<arch>:<profile>=<lambda_dir>:<bin_dir>`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("--sizes {text}: expected <arch>:<profile>=<lambda_dir>:<bin_dir>");
        let (key, dirs) = text.split_once('=').ok_or_else(bad)?;
        let (arch, profile) = key.split_once(':').ok_or_else(bad)?;
        let (lambda_dir, bin_dir) = dirs.split_once(':').ok_or_else(bad)?;
        Ok(Self {
            arch: arch.to_owned(),
            profile: profile.to_owned(),
            lambda_dir: lambda_dir.into(),
            bin_dir: bin_dir.into(),
        })
    }
}

/// One function's sizes in one build.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct Size {
    /// The function.
    pub function: &'static str,
    /// `aarch64` or `x86_64`.
    pub arch: String,
    /// The cargo profile.
    pub profile: String,
    /// The stripped binary, bytes.
    pub binary_bytes: u64,
    /// The deployment zip, bytes.
    pub zip_bytes: u64,
}

/// The sizes of every function in `build`.
pub(crate) fn measure(build: &Build) -> Result<Vec<Size>, String> {
    Trigger::ALL
        .iter()
        .map(|trigger| {
            let function = trigger.binary();
            let len = |path: PathBuf| {
                std::fs::metadata(&path)
                    .map(|meta| meta.len())
                    .map_err(|error| format!("{}: {error}", path.display()))
            };
            Ok(Size {
                function,
                arch: build.arch.clone(),
                profile: build.profile.clone(),
                binary_bytes: len(build.bin_dir.join(function))?,
                zip_bytes: len(build.lambda_dir.join(function).join("bootstrap.zip"))?,
            })
        })
        .collect()
}
