//! What a statement runs under besides its text and parameters: the connection's settings
//! that change how names resolve, and the role running it.

/// Per-connection settings a statement is planned under.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Session {
    /// The workspace unqualified collection names resolve in (PostgreSQL's `search_path`);
    /// None for the server's default workspace.
    pub workspace: Option<String>,
    /// The role running the statement (`session_user`, `current_user`); None for the
    /// superuser.
    pub user: Option<String>,
}

/// An offset of a collection's log that a session's statements wait for before they run
/// (read-after-write for data written elsewhere: over REST, by a connector). Written
/// `[workspace.]collection:offset`, several separated by commas, as `SET cairn.read_after`
/// takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFence {
    /// The collection's workspace; None for the session's.
    pub workspace: Option<String>,
    /// The collection.
    pub collection: String,
    /// The offset that must be applied (a write's `last_offset`).
    pub offset: u64,
}

impl ReadFence {
    /// Parses `[workspace.]collection:offset[, …]`; an empty text is no fence.
    pub fn parse_list(text: &str) -> Result<Vec<ReadFence>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| {
                let bad = || format!("'{f}' is not a read fence: write [workspace.]collection:offset");
                let (name, offset) = f.rsplit_once(':').ok_or_else(bad)?;
                let offset = offset.trim().parse::<u64>().map_err(|_| bad())?;
                let (workspace, collection) = match name.trim().split_once('.') {
                    Some((ws, c)) => (Some(ws.to_owned()), c.to_owned()),
                    None => (None, name.trim().to_owned()),
                };
                if collection.is_empty() || workspace.as_deref().is_some_and(str::is_empty) {
                    return Err(bad());
                }
                Ok(ReadFence { workspace, collection, offset })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_parse_with_and_without_a_workspace() {
        let fences = ReadFence::parse_list("shop.orders:12, events:7").unwrap();
        assert_eq!(
            fences,
            vec![
                ReadFence { workspace: Some("shop".into()), collection: "orders".into(), offset: 12 },
                ReadFence { workspace: None, collection: "events".into(), offset: 7 },
            ]
        );
        assert_eq!(ReadFence::parse_list("").unwrap(), vec![]);
        for bad in ["orders", "orders:x", ":3", "shop.:3", "orders:-1"] {
            assert!(ReadFence::parse_list(bad).is_err(), "{bad}");
        }
    }
}
