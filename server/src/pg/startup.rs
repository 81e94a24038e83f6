//! Connection startup: protocol negotiation, who may connect, the settings a client is told
//! about, and registering the connection so a cancel request can reach its running query.
//! A role with a password proves it with SCRAM-SHA-256; a role without one may connect only
//! from this machine (a loopback peer), as with PostgreSQL's `trust` for local connections.
//! The one database is `cairn`.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cairn_engine::SqlState;
use cairn_storage::ScramSecret;
use datafusion_postgres::pgwire::api::auth::sasl::SCRAM_SHA_256_METHOD;
use datafusion_postgres::pgwire::api::auth::{
    finish_authentication, protocol_negotiation, save_startup_parameters_to_metadata, ServerParameterProvider, StartupHandler,
};
use datafusion_postgres::pgwire::api::{
    ClientInfo, ConnectionManager, PgWireConnectionState, PidSecretKeyGenerator, RandomPidSecretKeyGenerator, METADATA_DATABASE,
    METADATA_USER,
};
use datafusion_postgres::pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use datafusion_postgres::pgwire::messages::startup::{Authentication, PasswordMessageFamily};
use datafusion_postgres::pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use futures::{Sink, SinkExt};

use super::settings;
use crate::auth::scram::{self, Challenge};
use crate::auth::{Auth, AuthError};

/// The one database.
pub(super) const DATABASE: &str = "cairn";

/// Accepts connections of the store's roles to database `cairn`.
pub(super) struct Startup {
    auth: Auth,
    connections: Arc<ConnectionManager>,
    pids: RandomPidSecretKeyGenerator,
    tls_required: bool,
}

/// The role a connection logged in as (kept in its extensions).
pub(super) struct LoggedIn(pub String);

/// Where a connection's SCRAM exchange is.
enum ScramStep {
    /// The role's secret, waiting for the client's first message.
    Started(ScramSecret),
    /// The server's first message was sent; waiting for the client's proof.
    Challenged(Box<Challenge>),
}

/// A connection's SCRAM exchange, taken out of its extensions at each step.
struct Scram(Mutex<Option<ScramStep>>);

impl Startup {
    /// A startup handler checking logins against `auth` and registering connections with
    /// `connections`; with `tls_required`, one without TLS is refused.
    pub(super) fn new(auth: Auth, connections: Arc<ConnectionManager>, tls_required: bool) -> Startup {
        Startup { auth, connections, pids: RandomPidSecretKeyGenerator::default(), tls_required }
    }

    /// Checks the startup packet; asks for a password when the role has one.
    async fn on_startup_packet<C>(&self, client: &mut C) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if self.tls_required && !client.is_secure() {
            return Err(fatal(
                SqlState::InvalidAuthorizationSpecification,
                "this server requires TLS: connect with sslmode=require".to_owned(),
            ));
        }
        let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
        // Another machine learns nothing of which roles exist: every refusal reads the same.
        let local = client.socket_addr().ip().is_loopback();
        let failed = || fatal(SqlState::InvalidPassword, format!("password authentication failed for user \"{user}\""));
        let role = match self.auth.role(&user) {
            Ok(role) if role.login => role,
            Ok(_) if local => {
                return Err(fatal(
                    SqlState::InvalidAuthorizationSpecification,
                    format!("role \"{user}\" is not permitted to log in"),
                ))
            }
            Err(AuthError::NoRole(_)) if local => {
                return Err(fatal(SqlState::InvalidAuthorizationSpecification, format!("role \"{user}\" does not exist")))
            }
            Ok(_) | Err(AuthError::NoRole(_)) => return Err(failed()),
            Err(e) => return Err(fatal(SqlState::InternalError, format!("reading roles: {e}"))),
        };
        let database = client.metadata().get(METADATA_DATABASE).cloned().unwrap_or_else(|| user.clone());
        if database != DATABASE {
            return Err(fatal(
                SqlState::InvalidCatalogName,
                format!("database \"{database}\" does not exist (connect to database \"{DATABASE}\")"),
            ));
        }
        match role.scram {
            Some(secret) => {
                let step = ScramStep::Started(secret);
                client.session_extensions().insert(Scram(Mutex::new(Some(step))));
                client.set_state(PgWireConnectionState::AuthenticationInProgress);
                let offer = Authentication::SASL(vec![SCRAM_SHA_256_METHOD.to_owned()]);
                client.send(PgWireBackendMessage::Authentication(offer)).await?;
                Ok(())
            }
            // A role without a password may connect only from the server's own machine.
            None if local => self.finish(client, user).await,
            None => Err(failed()),
        }
    }

    /// Takes the client's SCRAM messages: its first (answered with the server's), then its
    /// proof (checked: the connection is in, or refused with 28P01).
    async fn on_password<C>(&self, client: &mut C, message: PasswordMessageFamily) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let user = client.metadata().get(METADATA_USER).cloned().unwrap_or_default();
        let failed = || fatal(SqlState::InvalidPassword, format!("password authentication failed for user \"{user}\""));
        let step = client.session_extensions().get::<Scram>().and_then(|s| s.0.lock().ok().and_then(|mut s| s.take()));
        let waiting = match step.ok_or_else(failed)? {
            ScramStep::Started(secret) => {
                let first = message.into_sasl_initial_response()?;
                if first.auth_method != SCRAM_SHA_256_METHOD {
                    return Err(fatal(
                        SqlState::InvalidAuthorizationSpecification,
                        format!("authentication method {} is not offered", first.auth_method),
                    ));
                }
                let data = first.data.as_deref().ok_or_else(failed)?;
                let (server_first, challenge) = scram::server_first(&secret, data).map_err(|e| refused(e, &failed))?;
                client.session_extensions().insert(Scram(Mutex::new(Some(ScramStep::Challenged(Box::new(challenge))))));
                let reply = Authentication::SASLContinue(server_first.into());
                client.send(PgWireBackendMessage::Authentication(reply)).await?;
                return Ok(());
            }
            ScramStep::Challenged(waiting) => waiting,
        };
        let proof = message.into_sasl_response()?;
        let server_final = waiting.verify(&proof.data).map_err(|e| refused(e, &failed))?;
        client.send(PgWireBackendMessage::Authentication(Authentication::SASLFinal(server_final.into()))).await?;
        self.finish(client, user).await
    }

    /// The connection is in: it gets its cancel key and is told the server's settings.
    async fn finish<C>(&self, client: &mut C, user: String) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let (pid, secret) = self.pids.generate(client);
        client.set_pid_and_secret_key(pid, secret.clone());
        let (handle, guard) = self.connections.register(pid, secret);
        client.session_extensions().insert(handle);
        client.session_extensions().insert(guard);
        client.session_extensions().insert(LoggedIn(user));
        finish_authentication(client, &Parameters).await
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
        match message {
            PgWireFrontendMessage::Startup(startup) => {
                protocol_negotiation(client, &startup).await?;
                save_startup_parameters_to_metadata(client, &startup);
                self.on_startup_packet(client).await
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => self.on_password(client, message).await,
            _ => Ok(()),
        }
    }
}

/// A failed SCRAM exchange: logged with its reason, told to the client as a failed login.
fn refused(e: scram::ScramError, failed: &dyn Fn() -> PgWireError) -> PgWireError {
    tracing::info!(reason = %e, "password authentication failed");
    failed()
}

/// A startup refusal: the client is told why, and the connection ends.
fn fatal(state: SqlState, message: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new("FATAL".to_owned(), state.code().to_owned(), message)))
}

/// The settings a client is told about when it connects.
struct Parameters;

impl ServerParameterProvider for Parameters {
    fn server_parameters<C>(&self, client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        let metadata = client.metadata();
        let mut params: HashMap<String, String> = settings::reported_at_startup()
            .map(|(name, _)| (name.to_owned(), settings::value(metadata, name).unwrap_or_default()))
            .collect();
        params.insert("application_name".to_owned(), settings::value(metadata, "application_name").unwrap_or_default());
        params.insert("session_authorization".to_owned(), metadata.get(METADATA_USER).cloned().unwrap_or_default());
        Some(params)
    }
}
