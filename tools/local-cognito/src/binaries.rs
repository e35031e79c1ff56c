//! Finding (and, under cargo, building) the trigger binaries the local pool runs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Every trigger binary, as `functions/` names them: the custom-auth three, then
/// `pre-authentication`, `user-migration`, `post-authentication` and `pre-sign-up`. The one list the local tool
/// and the integration tests share (`deploy_descriptors` holds it equal to `functions/`, which
/// the scripts list themselves).
pub const ALL_TRIGGERS: [&str; 7] = [
    "define-auth-challenge",
    "create-auth-challenge",
    "verify-auth-challenge",
    "pre-authentication",
    "user-migration",
    "post-authentication",
    "pre-sign-up",
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
/// `target_dir` (`…/debug`, `…/release` or `…/<profile>`), showing cargo's progress on stderr
/// (the caller says what is being built first).
pub fn cargo_build(
    cargo: &Path,
    workspace_dir: &Path,
    target_dir: &Path,
    packages: &[&str],
) -> Result<(), BinariesError> {
    let status = build_command(cargo, workspace_dir, target_dir, packages)
        .status()
        .map_err(|error| BinariesError::Build(error.to_string()))?;
    if status.success() {
        Ok(())
    } else {
        Err(BinariesError::Build(status.to_string()))
    }
}

/// The variables `cargo run` sets for the program it runs, which describe the local tool's own
/// package. A nested build that inherits them sees other values than a plain `cargo build` (build
/// scripts and `env!` are fingerprinted on them), so `ring`, `rustls`, the library and the tool
/// rebuilt on every run; the nested build gets a clean environment instead.
fn set_by_cargo_run(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("__CARGO")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "CARGO_MAKEFLAGS"
                | "OUT_DIR"
        )
}

/// The nested `cargo build` (see [`cargo_build`]).
fn build_command(
    cargo: &Path,
    workspace_dir: &Path,
    target_dir: &Path,
    packages: &[&str],
) -> Command {
    let mut command = Command::new(cargo);
    command.current_dir(workspace_dir).arg("build");
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_by_cargo_run) {
            command.env_remove(name);
        }
    }
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
    command
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nested_build_drops_what_cargo_run_set_and_keeps_the_rest() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "__CARGO_FIX_PLZ",
        ] {
            assert!(set_by_cargo_run(name), "{name}");
        }
        for name in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_TERM_COLOR",
            "CARGO_BUILD_JOBS",
            "CARGO_PROFILE_RELEASE_LTO",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!set_by_cargo_run(name), "{name}");
        }
    }

    #[test]
    fn the_nested_build_matches_the_profile_and_shows_progress() {
        let command = build_command(
            Path::new("cargo"),
            Path::new("/work"),
            Path::new("/work/target/release"),
            &["a", "b"],
        );
        let args: Vec<_> = command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "build",
                "--release",
                "--target-dir",
                "/work/target",
                "-p",
                "a",
                "-p",
                "b"
            ]
        );
        // Under `cargo test` the variables of `cargo run` are set: each one is removed.
        let removed: Vec<_> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert!(
            removed.iter().any(|name| name == "CARGO_MANIFEST_DIR"),
            "{removed:?}"
        );
        assert!(
            removed.iter().all(|name| set_by_cargo_run(name)),
            "{removed:?}"
        );
        let profile = build_command(
            Path::new("cargo"),
            Path::new("/work"),
            Path::new("/work/target/bench-profile"),
            &["a"],
        );
        assert!(profile.get_args().any(|arg| arg == "bench-profile"));
    }
}
