//! What a source is: its kind and settings ([`SourceSpec`]), and its definition as kept in
//! its collection's directory ([`SourceDef`]).

use serde::{Deserialize, Serialize};

use super::files::{FileSource, FilesSpec};
use super::{Source, SourceError};

/// A source's kind and settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSpec {
    /// Files on this machine.
    Files(FilesSpec),
}

impl SourceSpec {
    /// The kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSpec::Files(_) => "files",
        }
    }

    /// Checks the settings without reaching anything.
    pub fn check(&self) -> Result<(), SourceError> {
        match self {
            SourceSpec::Files(f) => f.check(),
        }
    }

    /// Refuses a source that would read Cairn's data directory `root` (roles' secrets, its
    /// collections' own files).
    pub fn check_outside(&self, root: &std::path::Path) -> Result<(), SourceError> {
        match self {
            SourceSpec::Files(f) => f.check_outside(root),
        }
    }

    /// What the source reads, in a few words, for status and logs (never a credential).
    pub fn describe(&self) -> String {
        match self {
            SourceSpec::Files(f) => format!("files {}", f.path),
        }
    }

    /// The source, at `position` (None: from the beginning).
    pub fn open(&self, position: Option<&str>) -> Result<Box<dyn Source>, SourceError> {
        Ok(match self {
            SourceSpec::Files(f) => Box::new(FileSource::open(f.clone(), position)?),
        })
    }
}

/// A source as its collection keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceDef {
    /// Its id, unique in the server.
    pub id: String,
    /// What it reads.
    pub spec: SourceSpec,
    /// Whether it was paused.
    #[serde(default)]
    pub paused: bool,
}
