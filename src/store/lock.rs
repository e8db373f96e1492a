//! The instance lock: one bot per data folder, held for the life of the process.

use std::path::Path;

/// Holds `DATA_DIR/jianbao.lock` for the life of the process, so two bots never run (and send)
/// on the same data.
pub struct InstanceLock {
    _file: std::fs::File,
}

impl InstanceLock {
    pub fn acquire(data_dir: &Path) -> Result<InstanceLock, String> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let path = data_dir.join("jianbao.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(InstanceLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "another jianbao bot is already running on {} (lock file {} is held); stop it first",
                data_dir.display(),
                path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock {}: {e}", path.display()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_instance_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _first = InstanceLock::acquire(dir.path()).unwrap();
        let second = InstanceLock::acquire(dir.path());
        assert!(second.is_err_and(|e| e.contains("already running")));
    }
}
