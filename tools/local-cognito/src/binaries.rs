//! Finding (and, under cargo, building) the trigger binaries the local pool runs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every trigger binary, as `functions/` names them: the custom-auth three, then
/// `pre-authentication`, `user-migration` and `post-authentication`. The one list the local tool
/// and the integration tests share (`deploy_descriptors` holds it equal to `functions/`, which
/// the scripts list themselves).
pub const ALL_TRIGGERS: [&str; 6] = [
    "define-auth-challenge",
    "create-auth-challenge",
    "verify-auth-challenge",
    "pre-authentication",
    "user-migration",
    "post-authentication",
];

/// Why the binaries are not there.
#[derive(Debug, thiserror::Error)]
pub enum BinariesError {
    /// `cargo build` failed.
    #[error("cargo build of the trigger binaries failed ({0})")]
    Build(String),
    /// A binary is missing from the directory.
    #[error("{0} not found: build the triggers first (cargo build --bins) or pass --bin-dir")]
    Missing(String),
}

/// Builds `packages` with `cargo` in `workspace_dir`, for the profile whose output directory is
/// `target_dir` (`…/debug`, `…/release` or `…/<profile>`).
pub fn cargo_build(
    cargo: &Path,
    workspace_dir: &Path,
    target_dir: &Path,
    packages: &[&str],
) -> Result<(), BinariesError> {
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace_dir)
        .args(["build", "--quiet"]);
    match target_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            command.arg("--release");
        }
        Some(profile) => {
            command.args(["--profile", profile]);
        }
    }
    if let Some(target_root) = target_dir.parent() {
        command.arg("--target-dir").arg(target_root);
    }
    for package in packages {
        command.args(["-p", package]);
    }
    let status = command
        .status()
        .map_err(|error| BinariesError::Build(error.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(BinariesError::Build(status.to_string()))
    }
}

/// The path of each of `names` in `dir`, all of which must exist.
pub fn locate(dir: &Path, names: &[&str]) -> Result<Vec<PathBuf>, BinariesError> {
    names
        .iter()
        .map(|name| {
            let path = dir.join(name);
            if path.is_file() {
                Ok(path)
            } else {
                Err(BinariesError::Missing(path.display().to_string()))
            }
        })
        .collect()
}

/// Where the trigger binaries of this build are: beside the running executable (or, for a test
/// executable in `deps/`, one level up).
pub fn default_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    if dir.file_name().is_some_and(|name| name == "deps") {
        dir.parent().map(Path::to_path_buf)
    } else {
        Some(dir.to_path_buf())
    }
}
