//! `serve --data FILE`: the local pool's users, refresh tokens and disabled users kept in a JSON
//! file across restarts. Every change is written whole to a new temporary file beside it (a
//! random name, created exclusively: never an existing file or a link planted there), flushed
//! to disk and renamed over it, so a crash mid-write leaves the previous file intact (a rename
//! within a directory is atomic). The file holds refresh tokens and local passwords: it is made
//! readable by its owner only. One `serve` at a time uses a file ([`DataFile::lock`]): two
//! writing whole snapshots would undo each other's changes.

use std::collections::{BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SignedIn;
use crate::users::LocalUser;

/// The file's format version.
const VERSION: u32 = 1;

/// What the file holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PoolData {
    version: u32,
    pub(super) users: Vec<LocalUser>,
    pub(super) refresh_tokens: HashMap<String, SignedIn>,
    #[serde(default)]
    pub(super) disabled: BTreeSet<String>,
}

impl PoolData {
    pub(super) fn new(
        users: Vec<LocalUser>,
        refresh_tokens: HashMap<String, SignedIn>,
        disabled: BTreeSet<String>,
    ) -> Self {
        Self {
            version: VERSION,
            users,
            refresh_tokens,
            disabled,
        }
    }
}

/// Why the data file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataFileError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Another `serve` uses the file.
    #[error(
        "{path} is in use by another local-cognito serve (process {pid}); stop it, or remove {path}.lock if it is gone"
    )]
    Locked {
        /// The file.
        path: String,
        /// The process that holds it.
        pid: String,
    },
    /// The file is not one this tool wrote.
    #[error("{path} is not a local-cognito data file ({detail})")]
    Format {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
}

/// The data file of one `serve`.
#[derive(Debug, Clone)]
pub struct DataFile {
    path: PathBuf,
}

impl DataFile {
    /// The file at `path` (read with [`DataFile::load`], written with [`DataFile::save`]).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> DataFileError {
        DataFileError::Io {
            path: self.path.display().to_string(),
            source,
        }
    }

    /// Takes the file for this process (`FILE.lock`, holding the process id), or says which
    /// process has it. A lock left by a process that is gone is taken over (on Linux, where
    /// `/proc` tells).
    pub fn lock(&self) -> Result<DataLock, DataFileError> {
        let path = PathBuf::from(format!("{}.lock", self.path.display()));
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    file.write_all(std::process::id().to_string().as_bytes())
                        .map_err(|error| self.io(error))?;
                    return Ok(DataLock { path });
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = pid.trim().to_owned();
                    let alive = !pid.is_empty()
                        && pid.bytes().all(|byte| byte.is_ascii_digit())
                        && Path::new("/proc").join(&pid).exists();
                    if alive || !Path::new("/proc/self").exists() {
                        return Err(DataFileError::Locked {
                            path: self.path.display().to_string(),
                            pid,
                        });
                    }
                    let _ = std::fs::remove_file(&path);
                }
                Err(error) => return Err(self.io(error)),
            }
        }
        Err(DataFileError::Locked {
            path: self.path.display().to_string(),
            pid: "unknown".to_owned(),
        })
    }

    /// What the file holds, or `None` when there is no file yet.
    pub(super) fn load(&self) -> Result<Option<PoolData>, DataFileError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.io(error)),
        };
        let data: PoolData =
            serde_json::from_str(&text).map_err(|error| DataFileError::Format {
                path: self.path.display().to_string(),
                detail: error.to_string(),
            })?;
        if data.version != VERSION {
            return Err(DataFileError::Format {
                path: self.path.display().to_string(),
                detail: format!("version {}, expected {VERSION}", data.version),
            });
        }
        Ok(Some(data))
    }

    /// Replaces the file with `data`: written to a temporary file in the same directory, synced,
    /// renamed over the file, and the directory synced — never a half-written file.
    pub(super) fn save(&self, data: &PoolData) -> Result<(), DataFileError> {
        let text = serde_json::to_vec_pretty(data).map_err(|error| DataFileError::Format {
            path: self.path.display().to_string(),
            detail: error.to_string(),
        })?;
        let directory = match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = self
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data".to_owned());
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix)
            .map_err(|error| self.io(std::io::Error::other(error.to_string())))?;
        let suffix: String = suffix.iter().map(|byte| format!("{byte:02x}")).collect();
        let temporary = directory.join(format!(".{name}.{suffix}.tmp"));
        let written = (|| {
            let mut options = std::fs::OpenOptions::new();
            // A new file only: an existing one (or a link) at the name fails the write.
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let mut file = options.open(&temporary)?;
            file.write_all(&text)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &self.path)?;
            // The rename itself reaches the disk with the directory.
            if let Ok(directory) = std::fs::File::open(&directory) {
                let _ = directory.sync_all();
            }
            Ok(())
        })();
        written.map_err(|error| {
            let _ = std::fs::remove_file(&temporary);
            self.io(error)
        })
    }
}

/// The lock [`DataFile::lock`] took; released when dropped.
#[derive(Debug)]
pub struct DataLock {
    path: PathBuf,
}

impl Drop for DataLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str) -> LocalUser {
        LocalUser {
            username: name.to_owned(),
            attributes: [("sub".to_owned(), format!("sub-{name}"))].into(),
            password: Some(format!("{name}-password")),
        }
    }

    fn temporary_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("local-cognito-data-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn what_is_saved_is_loaded_and_a_missing_file_is_no_data() {
        let dir = temporary_dir("roundtrip");
        let file = DataFile::new(dir.join("pool.json"));
        assert!(file.load().unwrap().is_none());
        let data = PoolData::new(
            vec![user("dana")],
            HashMap::new(),
            BTreeSet::from(["eve".to_owned()]),
        );
        file.save(&data).unwrap();
        let loaded = file.load().unwrap().unwrap();
        assert_eq!(loaded.users, data.users);
        assert_eq!(loaded.disabled, data.disabled);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "readable by others: {mode:o}");
        }
        // Nothing is left beside it.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("pool.json")]);
    }

    #[test]
    fn an_interrupted_write_leaves_the_previous_file_whole() {
        let dir = temporary_dir("crash");
        let path = dir.join("pool.json");
        let file = DataFile::new(&path);
        file.save(&PoolData::new(
            vec![user("dana")],
            HashMap::new(),
            BTreeSet::new(),
        ))
        .unwrap();
        // A crash mid-write: a half-written temporary file, never renamed.
        let left_over = dir.join(".pool.json.0123456789abcdef.tmp");
        std::fs::write(&left_over, b"{\"version\": 1, \"us").unwrap();
        assert_eq!(file.load().unwrap().unwrap().users, vec![user("dana")]);
        // The next write replaces the file, never through what lies beside it.
        file.save(&PoolData::new(
            vec![user("erin")],
            HashMap::new(),
            BTreeSet::new(),
        ))
        .unwrap();
        assert_eq!(file.load().unwrap().unwrap().users, vec![user("erin")]);
        // A file that cannot be written to (a directory in its way) fails with its path and
        // keeps nothing half-done.
        let blocked = DataFile::new(dir.join("pool.json").join("inside"));
        let error = blocked.save(&PoolData::default()).unwrap_err();
        assert!(error.to_string().contains("inside"), "{error}");
        assert_eq!(file.load().unwrap().unwrap().users, vec![user("erin")]);
    }

    #[test]
    fn one_serve_at_a_time_uses_a_file_and_a_dead_one_s_lock_is_taken_over() {
        let dir = temporary_dir("lock");
        let file = DataFile::new(dir.join("pool.json"));
        let held = file.lock().unwrap();
        let error = file.lock().unwrap_err();
        assert!(error.to_string().contains("in use"), "{error}");
        drop(held);
        let again = file.lock().unwrap();
        drop(again);
        // A lock left by a process that is gone (on Linux).
        if Path::new("/proc/self").exists() {
            std::fs::write(dir.join("pool.json.lock"), "999999999").unwrap();
            assert!(file.lock().is_ok());
        }
    }

    #[test]
    fn files_of_another_kind_are_refused_naming_the_file() {
        let dir = temporary_dir("format");
        for (name, text) in [
            ("list.json", "[]"),
            ("garbage.json", "not json"),
            (
                "future.json",
                r#"{"version": 2, "users": [], "refreshTokens": {}}"#,
            ),
        ] {
            std::fs::write(dir.join(name), text).unwrap();
            let error = DataFile::new(dir.join(name)).load().unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }
}
