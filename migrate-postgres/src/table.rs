//! The history table, once per run: created with its schema when missing, its shape
//! checked when it is there, and a read-only connection said so.

use migrate_core::{BoxError, Error};

use crate::database::Postgres;
use crate::history::{self, quote_literal};
use crate::offload::off_runtime;

impl Postgres {
    /// Creates the schema and table when missing, or checks the shape of a table that
    /// is there: once per run, in the first step's transaction.
    pub(crate) fn prepare_table(&mut self) -> Result<(), BoxError> {
        if self.table_ready {
            return Ok(());
        }
        // The columns, and whether the schema exists: one simple query.
        let columns = self.simple(&format!(
            "SELECT column_name::text, data_type::text, is_nullable, \
             (column_default IS NOT NULL)::text FROM information_schema.columns \
             WHERE table_schema = {schema} AND table_name = {table} \
             UNION ALL SELECT '', '', '', 'schema' FROM pg_namespace WHERE nspname = {schema} \
             UNION ALL SELECT '', '', '', 'read-only' \
             WHERE current_setting('transaction_read_only') = 'on'",
            schema = quote_literal(&self.schema),
            table = quote_literal(&self.table),
        ))?;
        let flag = |name: &str| columns.iter().any(|c| c.get(3) == Some(name));
        if flag("read-only") {
            // Before any migration runs, whether or not the history table exists.
            return Err(READ_ONLY.into());
        }
        let schema_exists = flag("schema");
        let columns: Vec<_> = columns
            .into_iter()
            .filter(|c| c.get(0) != Some(""))
            .collect();
        if columns.is_empty() {
            let create = self.sql.create.clone();
            let client = self.client();
            off_runtime(move || -> Result<(), postgres::Error> {
                let exists = schema_exists;
                // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the
                // schema exists: skip it then.
                let create = if exists {
                    create.split_once(';').map_or(create.as_str(), |(_, t)| t)
                } else {
                    create.as_str()
                };
                client.batch_execute(create)
            })?;
            self.table_created = true;
        } else {
            self.check_shape(&columns)?;
        }
        self.table_ready = true;
        Ok(())
    }

    fn check_shape(&self, columns: &[postgres::SimpleQueryRow]) -> Result<(), BoxError> {
        let foreign = |problem: String| -> BoxError {
            Box::new(Error::ForeignHistoryTable {
                table: self.sql.display.clone(),
                problem,
            })
        };
        for (expected, ty) in history::COLUMNS {
            let Some(column) = columns.iter().find(|c| c.get(0) == Some(expected)) else {
                return Err(foreign(format!("it has no column {expected:?}")));
            };
            let declared = column.get(1).unwrap_or_default();
            if declared != ty {
                return Err(foreign(format!(
                    "its column {expected:?} is of type {declared} where migrate declares {ty}"
                )));
            }
        }
        if let Some(column) = columns.iter().find(|c| {
            let name = c.get(0).unwrap_or_default();
            let (nullable, has_default) = (c.get(2) == Some("YES"), c.get(3) == Some("true"));
            !history::COLUMNS.iter().any(|(n, _)| *n == name) && !nullable && !has_default
        }) {
            let name = column.get(0).unwrap_or_default();
            return Err(foreign(format!(
                "its column {name:?} requires a value that migrate does not write"
            )));
        }
        Ok(())
    }
}

/// A write refused because the transaction is read-only, said so: the server is a hot
/// standby, or the connection's `default_transaction_read_only` is on.
pub(crate) fn read_only(error: BoxError) -> BoxError {
    let refused = error
        .downcast_ref::<postgres::Error>()
        .and_then(postgres::Error::code)
        .is_some_and(|code| *code == postgres::error::SqlState::READ_ONLY_SQL_TRANSACTION);
    if !refused {
        return error;
    }
    format!(
        "{READ_ONLY} ({})",
        error
            .downcast_ref::<postgres::Error>()
            .map(db_message)
            .unwrap_or_default()
    )
    .into()
}

const READ_ONLY: &str = "the connection is read-only (a hot standby, or \
    default_transaction_read_only is on), so no migration can be written; migrate on the \
    primary, with a connection that may write; nothing was written";

/// The server's own message of a database error, without the driver's prefix.
pub(crate) fn db_message(error: &postgres::Error) -> String {
    error
        .as_db_error()
        .map_or_else(|| error.to_string(), |db| db.message().to_owned())
}
