//! Read-after-write: waiting, before a statement runs, until the collections it names have
//! applied the offsets a session asked for ([`ReadFence`]).

use std::time::{Duration, Instant};

use super::Engine;
use crate::error::{EngineError, Result};
use crate::session::{ReadFence, Session};
use crate::sql::TableName;

/// The first and the longest pause between looks at a collection's applied offset.
const FIRST_PAUSE: Duration = Duration::from_micros(200);
const LONGEST_PAUSE: Duration = Duration::from_millis(10);

impl Engine {
    /// Waits until every fence's collection has applied its offset, at most `timeout` in
    /// all; past it, fails naming the collection that is behind (SQLSTATE 57014). The wait
    /// is asynchronous, so a statement timeout or a cancel ends it.
    pub async fn wait_for(&self, session: &Session, fences: &[ReadFence], timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        for fence in fences {
            let name = TableName { workspace: fence.workspace.clone(), collection: fence.collection.clone() };
            let pipeline = self.table_pipeline(session, &name)?;
            let mut pause = FIRST_PAUSE;
            while pipeline.applied_offset() < fence.offset {
                if Instant::now() >= deadline {
                    return Err(EngineError::FenceTimeout(format!(
                        "collection {} has not applied offset {} within {} ms (it has applied {}, its log holds {})",
                        fence.collection,
                        fence.offset,
                        timeout.as_millis(),
                        pipeline.applied_offset(),
                        pipeline.appended_offset(),
                    )));
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_PAUSE);
            }
        }
        Ok(())
    }
}
