//! Whose fault a failed database call is: the one list that decides whether
//! work is waited out or given up. A message is dead-lettered only when its
//! own data is to blame; everything else (the server restarting, closed for
//! maintenance, out of connections, read-only after a failover, a statement
//! cancelled, the network, the pool) passes, so the work waits for it. An
//! allow-list of "transient" codes would miss the next way a database says
//! "not now"; this list names what is the work's fault instead, and treats
//! everything it does not know as something to wait out.

/// Whose fault a failed database call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The work's own data breaks a rule of the schema: SQLSTATE class `22`
    /// (data exception: a value out of range, a string too long, a bad
    /// date) or `23` (integrity constraint violation: unique, foreign key,
    /// check, not null). The same work fails again however long one waits:
    /// a message is poison, a request the caller's mistake (use cases turn
    /// the violations they expect into 4xx answers).
    Input,
    /// The database, or the way to it, is not there now: no connection (I/O,
    /// TLS, the pool timed out or closed), or the server says "not now":
    /// class `08` connection exception, `25` invalid transaction state (a
    /// read-only transaction on a standby after a failover, `25006`), `40`
    /// transaction rollback (serialisation failure, deadlock), `53`
    /// insufficient resources (too many connections, disk full), `55` object
    /// not in prerequisite state (the database not accepting connections for
    /// maintenance, a lock not available), `57` operator intervention
    /// (shutting down, terminated by an administrator, a statement
    /// cancelled, starting up), `58` system error (I/O on the server). The
    /// same work succeeds once it is back: waited out; an HTTP request is
    /// answered 503 with `Retry-After`.
    Unavailable,
    /// Anything else: a statement the server refuses (class `42`), its own
    /// internal error (`XX`), a row that does not decode, a protocol error.
    /// Not known to pass, and not the work's doing either: a deploy or a
    /// migration heals it. A message waits for it (never dead-lettered for a
    /// bug of ours); an HTTP request is a 500 whose cause is logged.
    Unknown,
}

/// SQLSTATE classes (the first two characters) whose errors mean the
/// database is not there now.
const UNAVAILABLE_CLASSES: [&str; 7] = ["08", "25", "40", "53", "55", "57", "58"];
/// SQLSTATE classes whose errors are the work's own data.
const INPUT_CLASSES: [&str; 2] = ["22", "23"];

impl Fault {
    /// Whether work that failed so is waited out and tried again (a message
    /// kept, not dead-lettered): true unless its own data is to blame.
    pub fn is_waited_out(self) -> bool {
        self != Fault::Input
    }
}

/// Whose fault `error` is.
pub fn fault(error: &sqlx::Error) -> Fault {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Fault::Unavailable,
        sqlx::Error::Database(database) => match database.code() {
            Some(code) => of_sqlstate(&code),
            None => Fault::Unknown,
        },
        _ => Fault::Unknown,
    }
}

/// Whose fault an error with this SQLSTATE is.
pub fn of_sqlstate(code: &str) -> Fault {
    let class = code.get(..2).unwrap_or(code);
    if INPUT_CLASSES.contains(&class) {
        Fault::Input
    } else if UNAVAILABLE_CLASSES.contains(&class) {
        Fault::Unavailable
    } else {
        Fault::Unknown
    }
}

#[cfg(test)]
mod tests {
    use std::{borrow::Cow, error::Error as StdError, fmt};

    use sqlx::error::{DatabaseError, ErrorKind};

    use super::*;

    /// A server error with a SQLSTATE, as the driver reports one.
    #[derive(Debug)]
    struct ServerSaid(&'static str);

    impl fmt::Display for ServerSaid {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "SQLSTATE {}", self.0)
        }
    }

    impl StdError for ServerSaid {}

    impl DatabaseError for ServerSaid {
        fn message(&self) -> &str {
            self.0
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn StdError + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn StdError + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn StdError + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> ErrorKind {
            ErrorKind::Other
        }
    }

    fn said(code: &'static str) -> Fault {
        fault(&sqlx::Error::Database(Box::new(ServerSaid(code))))
    }

    #[test]
    fn the_works_own_data_is_input() {
        for code in [
            "22001", "22003", "22P02", "23505", "23503", "23514", "23502",
        ] {
            assert_eq!(said(code), Fault::Input, "{code}");
            assert!(!said(code).is_waited_out(), "{code}");
        }
    }

    #[test]
    fn every_way_the_server_says_not_now_is_unavailable() {
        for (code, what) in [
            ("08006", "connection failure"),
            ("08P01", "protocol violation on the connection"),
            (
                "25006",
                "read-only transaction (a standby after a failover)",
            ),
            ("25P02", "transaction aborted"),
            ("40001", "serialisation failure"),
            ("40P01", "deadlock"),
            ("53300", "too many connections"),
            ("53100", "disk full"),
            ("55000", "database not accepting connections (maintenance)"),
            ("55P03", "lock not available"),
            ("55006", "object in use"),
            ("57014", "statement cancelled"),
            ("57P01", "terminated by an administrator"),
            ("57P02", "crash shutdown"),
            ("57P03", "cannot connect now (starting up)"),
            ("58000", "system error"),
            ("58030", "I/O error on the server"),
        ] {
            assert_eq!(said(code), Fault::Unavailable, "{code}: {what}");
            assert!(said(code).is_waited_out(), "{code}: {what}");
        }
    }

    #[test]
    fn no_connection_is_unavailable() {
        let io = sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        for error in [
            io,
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::Tls("session lost".into()),
        ] {
            assert_eq!(fault(&error), Fault::Unavailable, "{error}");
        }
    }

    #[test]
    fn what_is_not_known_is_waited_out_but_not_unavailable() {
        for code in ["42P01", "42703", "0A000", "P0001", "XX000", "99999", "4"] {
            assert_eq!(said(code), Fault::Unknown, "{code}");
            assert!(said(code).is_waited_out(), "{code}");
        }
        let decode = sqlx::Error::ColumnNotFound("status".into());
        assert_eq!(fault(&decode), Fault::Unknown);
        assert!(fault(&sqlx::Error::Protocol("odd".into())).is_waited_out());
    }
}
