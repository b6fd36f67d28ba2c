//! The database a command works on, opened by its URL's scheme into one type, so that the
//! commands run on `&mut dyn Backend` whatever the backend; and the scratch database on
//! which `history` builds the schema after each migration.

use migrate_core::{Backend, Error};

/// An open database of one of the built-in backends.
pub enum Database {
    /// A SQLite file (or an in-memory database).
    #[cfg(feature = "sqlite")]
    Sqlite(Box<migrate_sqlite::Sqlite>),
    /// A PostgreSQL database (the history in one schema).
    #[cfg(feature = "postgres")]
    Postgres(Box<migrate_postgres::Postgres>),
}

impl Database {
    /// What the manager works on.
    pub fn backend(&mut self) -> &mut dyn Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Database::Sqlite(db) => &mut **db,
            #[cfg(feature = "postgres")]
            Database::Postgres(db) => &mut **db,
        }
    }
}

/// A database that exists only while `history` writes its document: the migrations are
/// applied to it one by one, and its schema read after each.
pub enum Scratch {
    /// An in-memory SQLite database.
    #[cfg(feature = "sqlite")]
    Sqlite(Box<migrate_sqlite::Sqlite>),
    /// A schema of its own on the PostgreSQL server of the database given, dropped when
    /// the document is written (also when a migration fails), or by the next scratch
    /// schema's creation when the process was killed first.
    #[cfg(feature = "postgres")]
    Postgres(Box<PgScratch>),
}

/// How the schema of a scratch database reads: SQL statements, or catalog lines.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SchemaText {
    /// `CREATE ...` statements from `sqlite_master`.
    Sql,
    /// One line per object from PostgreSQL's catalog (`Postgres::schema_objects`).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Catalog,
}

impl Scratch {
    /// An empty in-memory SQLite database.
    #[cfg(feature = "sqlite")]
    pub fn sqlite() -> Result<Self, Error> {
        Ok(Scratch::Sqlite(Box::new(
            migrate_sqlite::Sqlite::open_in_memory()?,
        )))
    }

    /// A new, empty schema on the server `url` names, with a connection whose
    /// `search_path` is that schema alone, so that the migrations' unqualified names land
    /// in it.
    #[cfg(feature = "postgres")]
    pub fn postgres(url: &str) -> Result<Self, Error> {
        let mut db = migrate_postgres::Postgres::connect(url)?;
        let name = migrate_postgres::scratch::create_scratch_schema(
            &mut db,
            "on which `history` applies the migrations",
        )?;
        // Owned first, so that it is dropped if what follows fails.
        let mut scratch = PgScratch {
            db: db.schema(&name),
            name,
        };
        let set = format!("SET search_path TO {}", scratch.name);
        scratch
            .db
            .connection()
            .batch_execute(&set)
            .map_err(|source| Error::Database {
                action: format!("use the scratch schema {} of `history`", scratch.name),
                source: Box::new(source),
            })?;
        Ok(Scratch::Postgres(Box::new(scratch)))
    }

    pub fn backend(&mut self) -> &mut dyn Backend {
        match self {
            #[cfg(feature = "sqlite")]
            Scratch::Sqlite(db) => &mut **db,
            #[cfg(feature = "postgres")]
            Scratch::Postgres(scratch) => &mut scratch.db,
        }
    }

    /// The schema as it stands, the history table left out, and how it reads.
    pub fn schema(&mut self) -> Result<(Vec<String>, SchemaText), Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Scratch::Sqlite(db) => Ok((sqlite_schema(db)?, SchemaText::Sql)),
            #[cfg(feature = "postgres")]
            Scratch::Postgres(scratch) => {
                // The catalog qualifies some names (an index's table) with the scratch
                // schema, whose name means nothing to the reader.
                let prefix = format!("{}.", scratch.name);
                let lines = scratch.db.schema_objects()?;
                let lines = lines.iter().map(|line| line.replace(&prefix, "")).collect();
                Ok((lines, SchemaText::Catalog))
            }
        }
    }
}

/// The scratch schema on a PostgreSQL server, dropped with this value.
#[cfg(feature = "postgres")]
pub struct PgScratch {
    db: migrate_postgres::Postgres,
    name: String,
}

#[cfg(feature = "postgres")]
impl Drop for PgScratch {
    fn drop(&mut self) {
        let drop = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        if let Err(error) = self.db.connection().batch_execute(&drop) {
            eprintln!(
                "warning: could not drop the scratch schema {} of `history`: {error}; drop it \
                 by hand: {drop}",
                self.name
            );
        }
    }
}

#[cfg(feature = "sqlite")]
fn sqlite_schema(db: &migrate_sqlite::Sqlite) -> Result<Vec<String>, Error> {
    let read = || -> migrate_sqlite::rusqlite::Result<Vec<String>> {
        let conn = db.connection();
        let mut statement = conn.prepare(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' \
             AND tbl_name != ?1 ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name",
        )?;
        statement
            .query_map([db.history_table_name()], |row| row.get(0))?
            .collect()
    };
    read().map_err(|source| Error::Database {
        action: "read the schema from sqlite_master".to_owned(),
        source: source.into(),
    })
}
