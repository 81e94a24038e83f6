//! Connection startup: protocol negotiation, who may connect, the settings a client is told
//! about, and registering the connection so a cancel request can reach its running query.
//! Until roles exist, the one user is the superuser `cairn` and the one database is `cairn`;
//! the server only listens on loopback addresses then (see `main.rs`).

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion_postgres::pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata, ServerParameterProvider,
    StartupHandler,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ConnectionManager, PidSecretKeyGenerator, RandomPidSecretKeyGenerator, METADATA_DATABASE, METADATA_USER,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::Sink;

use super::settings;

use cairn_engine::pg_catalog::SUPERUSER;
/// The one database.
pub const DATABASE: &str = "cairn";

/// Accepts connections for user `cairn` to database `cairn`.
pub struct Startup {
    connections: Arc<ConnectionManager>,
    pids: RandomPidSecretKeyGenerator,
    tls_required: bool,
}

impl Startup {
    /// A startup handler registering connections with `connections`; with `tls_required`,
    /// one without TLS is refused.
    pub fn new(connections: Arc<ConnectionManager>, tls_required: bool) -> Startup {
        Startup { connections, pids: RandomPidSecretKeyGenerator::default(), tls_required }
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(&self, client: &mut C, message: PgWireFrontendMessage) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let PgWireFrontendMessage::Startup(startup) = message else { return Ok(()) };
        protocol_negotiation(client, &startup).await?;
        save_startup_parameters_to_metadata(client, &startup);
        if self.tls_required && !client.is_secure() {
            return Err(fatal("28000", "this server requires TLS: connect with sslmode=require".to_owned()));
        }
        let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
        if user != SUPERUSER {
            return Err(fatal("28000", format!("role \"{user}\" does not exist (connect as user \"{SUPERUSER}\")")));
        }
        let database = client.metadata().get(METADATA_DATABASE).cloned().unwrap_or_else(|| user.clone());
        if database != DATABASE {
            return Err(fatal("3D000", format!("database \"{database}\" does not exist (connect to database \"{DATABASE}\")")));
        }
        let (pid, secret) = self.pids.generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        let (handle, guard) = self.connections.register(pid, secret);
        client.session_extensions().insert(handle);
        client.session_extensions().insert(guard);
        finish_authentication(client, &Parameters).await
    }
}

/// A startup refusal: the client is told why, and the connection ends.
fn fatal(code: &str, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("FATAL".to_owned(), code.to_owned(), message)))
}

/// The settings a client is told about when it connects.
struct Parameters;

impl ServerParameterProvider for Parameters {
    fn server_parameters<C>(&self, client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        let metadata = client.metadata();
        let mut params: HashMap<String, String> =
            settings::reported_at_startup().map(|(name, _)| (name.to_owned(), settings::value(metadata, name).unwrap_or_default())).collect();
        params.insert("application_name".to_owned(), settings::value(metadata, "application_name").unwrap_or_default());
        params.insert("session_authorization".to_owned(), SUPERUSER.to_owned());
        Some(params)
    }
}
