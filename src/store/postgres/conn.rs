//! Connections to the cluster's database: a small pool that reconnects with backoff, prepared
//! statements cached per connection, and PostgreSQL errors turned into [`StoreError`]s.
//!
//! Invariants:
//! * While the database is unreachable, at most one connection attempt is made per backoff
//!   period (50 ms doubling to a quarter of the lease, at most 5 s); other callers fail at once with the last error, so that no
//!   caller (a worker, a verb) stalls on a dead database for longer than one connect timeout.
//! * A connection that failed at the connection level (closed, I/O, server shutting down) is
//!   never returned to the pool.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use postgres::{GenericClient, NoTls, Statement};

use crate::store::{StoreError, StoreErrorKind};

/// The first wait after a failed connection attempt; doubled after each further failure, up to
/// a quarter of the lease (at most 5 s), so that a node is back within a fraction of its lease
/// once the database is.
const BACKOFF_START: Duration = Duration::from_millis(50);
/// Idle connections kept for reuse; more are closed when returned.
const MAX_IDLE: usize = 8;

/// One open connection and the statements prepared on it.
pub(crate) struct Conn {
    pub client: postgres::Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// The prepared form of `sql` on this connection, prepared at its first use.
    pub fn prepared(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        prepare_on(&mut self.statements, &mut self.client, sql)
    }

    /// The connection and its statement cache, borrowed apart (for use inside a transaction).
    pub fn split(&mut self) -> (&mut postgres::Client, Statements<'_>) {
        (&mut self.client, Statements(&mut self.statements))
    }
}

/// A connection's statement cache, usable with a transaction of that connection.
pub(crate) struct Statements<'a>(&'a mut HashMap<&'static str, Statement>);

impl Statements<'_> {
    /// The prepared form of `sql`, prepared through `client` (a transaction) at its first use.
    pub fn get(
        &mut self,
        client: &mut impl GenericClient,
        sql: &'static str,
    ) -> Result<Statement, postgres::Error> {
        prepare_on(self.0, client, sql)
    }
}

fn prepare_on(
    cache: &mut HashMap<&'static str, Statement>,
    client: &mut impl GenericClient,
    sql: &'static str,
) -> Result<Statement, postgres::Error> {
    if let Some(statement) = cache.get(sql) {
        return Ok(statement.clone());
    }
    let statement = client.prepare(sql)?;
    cache.insert(sql, statement.clone());
    Ok(statement)
}

/// The database: how to connect, and the idle connections.
pub(crate) struct Database {
    config: postgres::Config,
    idle: Mutex<Vec<Conn>>,
    backoff: Mutex<Backoff>,
    backoff_max: Duration,
}

#[derive(Default)]
struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<String>,
}

impl Database {
    /// Parses `url` (a `postgresql://` URL or `key=value` pairs) and sets the timeouts that keep
    /// a dead network from blocking a caller for longer than about `lease / 2`.
    pub fn new(url: &str, lease: Duration) -> Result<Database, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(|e| {
            StoreError::new(
                None,
                StoreErrorKind::Misconfigured {
                    detail: format!("invalid PostgreSQL connection string: {e}"),
                },
            )
        })?;
        let bound = (lease / 2).max(Duration::from_secs(1));
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(bound);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(bound);
        }
        config
            .keepalives(true)
            .keepalives_idle((lease / 4).max(Duration::from_secs(1)))
            .keepalives_interval(Duration::from_secs(1))
            .keepalives_retries(3);
        if config.get_application_name().is_none() {
            config.application_name("schedule-engine");
        }
        Ok(Database {
            config,
            idle: Mutex::new(Vec::new()),
            backoff: Mutex::new(Backoff::default()),
            backoff_max: (lease / 4).clamp(BACKOFF_START, Duration::from_secs(5)),
        })
    }

    /// A connection: an idle one, or a new one unless the database is in backoff.
    pub fn get(&self) -> Result<Conn, StoreError> {
        if let Some(conn) = self.idle.lock().pop() {
            if !conn.client.is_closed() {
                return Ok(conn);
            }
        }
        self.connect()
    }

    /// A new connection of its own (for the listener and the keeper), subject to the backoff.
    pub fn connect(&self) -> Result<Conn, StoreError> {
        {
            let backoff = self.backoff.lock();
            if let Some(retry_at) = backoff.retry_at {
                let now = Instant::now();
                if now < retry_at {
                    return Err(StoreError::io(
                        None,
                        format!(
                            "cannot reach the database ({}); next attempt in {:?}",
                            backoff.last_error.as_deref().unwrap_or("no connection"),
                            retry_at - now
                        ),
                    ));
                }
            }
        }
        match self.config.connect(NoTls) {
            Ok(client) => {
                *self.backoff.lock() = Backoff::default();
                Ok(Conn {
                    client,
                    statements: HashMap::new(),
                })
            }
            Err(e) => {
                let mut backoff = self.backoff.lock();
                let wait = BACKOFF_START
                    .saturating_mul(1 << backoff.failures.min(10))
                    .min(self.backoff_max);
                backoff.failures = backoff.failures.saturating_add(1);
                backoff.retry_at = Some(Instant::now() + wait);
                backoff.last_error = Some(describe(&e));
                Err(pg_error("cannot connect to the database", &e))
            }
        }
    }

    /// Returns `conn` for reuse, unless it is broken.
    pub fn put(&self, conn: Conn) {
        if conn.client.is_closed() {
            return;
        }
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// Drops every idle connection (after the database restarted, they are all dead).
    pub fn clear_idle(&self) {
        self.idle.lock().clear();
    }

    /// Runs `f` on a pooled connection. If the connection turns out to be dead before `f` got
    /// anything done (its first statement failed at the connection level, as an idle connection
    /// does after the server restarted), the idle connections are dropped and `f` runs once more
    /// on a new one. `f` must therefore be safe to run again when its first statement failed,
    /// including when that statement ran but its answer was lost: a `BEGIN`, a read, or an
    /// idempotent write.
    pub fn with<T>(
        &self,
        mut f: impl FnMut(&mut Conn) -> Result<T, Failure>,
    ) -> Result<T, StoreError> {
        let mut conn = self.get()?;
        let result = match f(&mut conn) {
            Err(Failure::Stale(_)) => {
                self.clear_idle();
                conn = self.connect()?;
                f(&mut conn)
            }
            other => other,
        };
        self.put(conn);
        result.map_err(Failure::into_error)
    }
}

/// Why a call on a connection failed.
pub(crate) enum Failure {
    /// The very first statement failed at the connection level: nothing was done, and the call
    /// may run again on another connection.
    Stale(StoreError),
    /// Anything else.
    Error(StoreError),
}

impl Failure {
    pub fn into_error(self) -> StoreError {
        match self {
            Failure::Stale(e) | Failure::Error(e) => e,
        }
    }

    /// Classifies an error of a call's first statement.
    pub fn first(context: &str, e: &postgres::Error) -> Failure {
        if is_connection_error(e) {
            Failure::Stale(pg_error(context, e))
        } else {
            Failure::Error(pg_error(context, e))
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Error(e)
    }
}

/// Whether `e` says the connection itself is gone (as opposed to a refused statement).
pub(crate) fn is_connection_error(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    match e.code() {
        // 08: connection exception; 57: operator intervention (admin shutdown, crash
        // shutdown, cannot connect now); 53: insufficient resources (too many connections).
        Some(code) => ["08", "57", "53"]
            .iter()
            .any(|c| code.code().starts_with(c)),
        // No SQLSTATE: an I/O or protocol error, not a statement the server refused.
        None => true,
    }
}

/// A [`StoreError`] for a failed database call, with the server's own message.
pub(crate) fn pg_error(context: &str, e: &postgres::Error) -> StoreError {
    StoreError::io(None, format!("{context}: {}", describe(e)))
}

fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
    }
}
