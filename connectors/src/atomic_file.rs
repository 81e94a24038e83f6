//! Small files replaced whole: written beside, fsynced, renamed over the old one, and the
//! directory fsynced, so a crash leaves the old contents or the new ones.

use std::fs;
use std::io::Write;
use std::path::Path;

/// Replaces `path` by `bytes`, durably.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = std::path::PathBuf::from(tmp);
    let mut f = fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
