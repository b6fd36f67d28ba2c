//! The foreign-key check after a migration: only what the migration could have broken.
//!
//! [`ForeignKeys::begin`] reads the schema (no table data) and sets a savepoint;
//! [`ForeignKeys::check`] compares the schema after with it, checks the tables created,
//! rebuilt or altered and their children (and every table written, when the migration
//! turned SQLite's checks off), then looks violations up on the database as it was before.
//! The design and its reasons: docs/safety.md, "The foreign-key check".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use migrate_core::BoxError;
use rusqlite::Connection;

use crate::db::{Conn, KeyWork};

/// The savepoint that marks the database as it was before the migration.
const SAVEPOINT: &str = "migrate_before_migration";

/// How many violations an error lists; it counts all of them.
const LISTED: usize = 5;

/// The state of the check between [`begin`](ForeignKeys::begin) and
/// [`check`](ForeignKeys::check).
#[derive(Default)]
pub(crate) struct ForeignKeys {
    /// The schema before the migration, while foreign keys are enforced.
    before: Option<Schema>,
    /// Whether the savepoint still marks the data of `before`, in the open transaction.
    savepoint: bool,
    /// Whether `before` outlives the next commit: a migration outside a transaction has
    /// recorded its start, and its code runs between that commit and the next `begin`.
    hold: bool,
    /// Whether the migration's code ran outside a transaction (after [`hold`](Self::hold)):
    /// then what the authorizer saw is not all it did (`VACUUM`), so `check` reads the
    /// whole schema.
    outside: bool,
    /// Reading the schema failed in `begin`: `check` reports it.
    failed: Option<rusqlite::Error>,
    /// `PRAGMA data_version` at the last `begin`: no other connection commits while the
    /// transaction it opened is open.
    data_version: i64,
    /// The schema a successful `check` read, for the next `begin`.
    carried: Option<Carried>,
}

/// The schema as one migration's check left it, and what tells whether it still holds.
struct Carried {
    schema: Schema,
    /// Another connection's commit changes it (this connection's own commits do not).
    data_version: i64,
    /// Any schema change made through SQL changes it: the manager's own, after the
    /// check, such as creating the companion table of the fast start.
    schema_version: i64,
}

/// A table as `sqlite_schema` describes it, with its indexes.
#[derive(Clone, PartialEq, Eq)]
struct Table {
    /// The name as written, for messages and pragmas.
    name: String,
    /// The root page of its b-tree: a new one means new rows (or `VACUUM`).
    root: i64,
    /// The `sql` of the table and of each index on it, sorted.
    definition: Vec<(String, Option<String>)>,
    /// Its own `CREATE` statement, lower-cased, to find the tables it names.
    create: String,
    /// Whether that statement says REFERENCES: a table without has no foreign key (nor
    /// has a virtual table).
    has_references: bool,
}

/// Every table of the main database, by lower-cased name (SQLite folds ASCII case).
struct Schema {
    tables: BTreeMap<String, Table>,
    /// The tables whose definition says REFERENCES: the only ones that can be children,
    /// so finding a parent's children looks at these alone.
    referencing: BTreeSet<String>,
    /// The largest rowid of `sqlite_schema`: SQLite gives an entry it adds a larger one.
    last_rowid: i64,
}

/// One entry of `sqlite_schema`, as read.
struct Entry {
    rowid: i64,
    kind: String,
    name: String,
    table: String,
    root: Option<i64>,
    sql: Option<String>,
}

impl Entry {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Entry {
            rowid: row.get(0)?,
            kind: row.get(1)?,
            name: row.get(2)?,
            table: row.get(3)?,
            root: row.get(4)?,
            sql: row.get(5)?,
        })
    }
}

/// Each table that differs, by lower-cased name, and how.
type Changes = Vec<(String, Change)>;

/// How a table differs between the schema before the migration and after it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Change {
    /// Under a name no table had.
    Created,
    /// A new root page: its rows were copied.
    Rebuilt,
    /// The same root page, another definition (its own or an index's).
    Altered,
    Dropped,
}

impl Schema {
    /// The whole schema: every entry of `sqlite_schema`.
    fn read(conn: &Connection) -> rusqlite::Result<Self> {
        let mut statement = conn.prepare_cached(
            "SELECT rowid, type, name, tbl_name, rootpage, sql FROM sqlite_schema \
             WHERE type IN ('table', 'index')",
        )?;
        let entries = statement
            .query_map([], Entry::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        // Views and triggers are not read above, but their rowids count.
        let last_rowid = conn
            .prepare_cached("SELECT ifnull(max(rowid), 0) FROM sqlite_schema")?
            .query_row([], |row| row.get(0))?;
        let mut schema = Schema {
            tables: BTreeMap::new(),
            referencing: BTreeSet::new(),
            last_rowid,
        };
        schema.add(entries);
        Ok(schema)
    }

    /// The schema after a migration that only added entries to `sqlite_schema` (as the
    /// authorizer saw it): `self` plus the entries past its last rowid, read by a seek on
    /// the rowid, and the tables they change. `None` when they do not look like additions
    /// (a table under a name already taken): the caller reads the whole schema instead.
    fn extend(mut self, conn: &Connection) -> rusqlite::Result<Result<(Self, Changes), Self>> {
        if self.last_rowid == i64::MAX {
            // SQLite picks a random free rowid past this one: not necessarily larger.
            return Ok(Err(self));
        }
        let mut statement = conn.prepare_cached(
            "SELECT rowid, type, name, tbl_name, rootpage, sql FROM sqlite_schema \
             WHERE rowid > ?1",
        )?;
        let entries = statement
            .query_map([self.last_rowid], Entry::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let taken = entries
            .iter()
            .any(|e| e.kind == "table" && self.tables.contains_key(&e.table.to_ascii_lowercase()));
        if taken {
            return Ok(Err(self));
        }
        let mut changes: BTreeMap<String, Change> = BTreeMap::new();
        for entry in &entries {
            let key = entry.table.to_ascii_lowercase();
            match entry.kind.as_str() {
                "table" => {
                    changes.insert(key, Change::Created);
                }
                // An index on a table that was there: its definition changed in place.
                "index" if self.tables.contains_key(&key) => {
                    changes.entry(key).or_insert(Change::Altered);
                }
                _ => {}
            }
        }
        self.add(entries);
        Ok(Ok((self, changes.into_iter().collect())))
    }

    /// Adds entries as [`read`](Self::read) does: tables first, then the indexes of the
    /// tables there are (an index of no known table is ignored).
    fn add(&mut self, entries: Vec<Entry>) {
        let mut indexes = Vec::new();
        for entry in entries {
            self.last_rowid = self.last_rowid.max(entry.rowid);
            match entry.kind.as_str() {
                "table" => self.add_table(entry),
                "index" => indexes.push(entry),
                _ => {}
            }
        }
        for entry in indexes {
            if let Some(table) = self.tables.get_mut(&entry.table.to_ascii_lowercase()) {
                let index = (entry.name, entry.sql);
                let at = table
                    .definition
                    .binary_search(&index)
                    .unwrap_or_else(|at| at);
                table.definition.insert(at, index);
            }
        }
    }

    fn add_table(&mut self, entry: Entry) {
        let create = entry
            .sql
            .as_deref()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let has_references = create.contains("references") && !create.starts_with("create virtual");
        let key = entry.table.to_ascii_lowercase();
        if has_references {
            self.referencing.insert(key.clone());
        } else {
            self.referencing.remove(&key);
        }
        self.tables.insert(
            key,
            Table {
                name: entry.name,
                root: entry.root.unwrap_or(0),
                definition: vec![(String::new(), entry.sql)],
                create,
                has_references,
            },
        );
    }

    /// How every table differs between `self` (before) and `after`: the full comparison.
    fn diff(&self, after: &Schema) -> Changes {
        let mut changes = Vec::new();
        for (key, table) in &after.tables {
            let change = match self.tables.get(key) {
                None => Change::Created,
                Some(old) if old.root != table.root => Change::Rebuilt,
                Some(old) if old != table => Change::Altered,
                Some(_) => continue,
            };
            changes.push((key.clone(), change));
        }
        for key in self.tables.keys() {
            if !after.tables.contains_key(key) {
                changes.push((key.clone(), Change::Dropped));
            }
        }
        changes
    }
}

/// What the check does with one table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Depth {
    /// Prepare `PRAGMA foreign_key_check(<table>)`: its foreign keys still resolve.
    Resolve,
    /// Run it: every row of the table.
    Rows,
}

/// One row of `PRAGMA foreign_key_check`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Violation {
    table: String,
    rowid: Option<i64>,
    parent: String,
    key: i64,
}

impl Violation {
    fn same_row(&self, other: &Violation) -> bool {
        self.table.eq_ignore_ascii_case(&other.table)
            && self.rowid == other.rowid
            && self.parent.eq_ignore_ascii_case(&other.parent)
    }
}

/// What to check: some tables, or the whole database (when the schema before the
/// migration is unknown).
enum Scope {
    Tables(BTreeMap<String, Depth>),
    Everything,
}

/// A foreign key SQLite could not check at all ("foreign key mismatch").
struct Unresolved {
    table: Option<String>,
    error: rusqlite::Error,
}

impl ForeignKeys {
    /// At the start of a step, in its transaction: takes the schema (the one the previous
    /// step's check read, when nothing changed it since, or else read whole) and sets the
    /// savepoint when foreign keys are enforced, unless a migration outside a transaction
    /// is between its two transactions (then the schema from before its code stays).
    /// `data_version` is the value the backend just read. Never fails: an error is kept
    /// for [`check`](Self::check).
    pub fn begin(&mut self, conn: &Conn, enforced: &mut Option<bool>, data_version: i64) {
        self.data_version = data_version;
        if self.hold && self.before.is_some() {
            self.hold = false;
            return;
        }
        let carried = self.carried.take();
        self.forget();
        let conn_inner = &conn.inner;
        let taken = (|| -> rusqlite::Result<()> {
            let on = match *enforced {
                Some(on) => on,
                None => {
                    let on = conn_inner.query_row("PRAGMA foreign_keys", [], |row| row.get(0))?;
                    *enforced = Some(on);
                    on
                }
            };
            if on {
                // Statements since the check (the manager's, or the application's on this
                // connection between runs) that set `writable_schema` may have changed
                // the schema without changing its version.
                let since = conn.take_key_work();
                let before = match carried {
                    Some(carried)
                        if !since.pragma && carried.holds(conn_inner, data_version)? =>
                    {
                        carried.schema
                    }
                    _ => Schema::read(conn_inner)?,
                };
                self.before = Some(before);
                conn_inner.execute_batch(&format!("SAVEPOINT {SAVEPOINT}"))?;
                self.savepoint = true;
            }
            Ok(())
        })();
        if let Err(error) = taken {
            self.failed = Some(error);
        }
    }

    /// A migration outside a transaction recorded its start: the schema read at this
    /// step's `begin` is the one its code starts from, so it outlives the commit.
    pub fn hold(&mut self) {
        self.hold = true;
        self.outside = true;
        self.savepoint = false;
    }

    /// The transaction ended without a check (rolled back, or a commit with nothing
    /// migrated, such as a baseline). Keeps the schema only for a held migration; a
    /// rollback also drops the carried schema (it may be the one rolled back).
    pub fn end(&mut self, committed: bool) {
        self.savepoint = false;
        if !committed {
            self.carried = None;
        }
        if !(committed && self.hold) {
            self.forget();
        }
    }

    fn forget(&mut self) {
        self.before = None;
        self.savepoint = false;
        self.hold = false;
        self.outside = false;
        self.failed = None;
    }

    /// After the migration, in its transaction: the violations it could have added, or
    /// an error naming them. `enforced` is what [`begin`](Self::begin) found.
    pub fn check(&mut self, conn: &Conn, enforced: Option<bool>) -> Result<(), BoxError> {
        let before = self.before.take();
        let savepoint = std::mem::take(&mut self.savepoint);
        let failed = self.failed.take();
        let outside = std::mem::take(&mut self.outside);
        self.hold = false;
        self.carried = None;
        if let Some(error) = failed {
            return Err(error.into());
        }
        if enforced != Some(true) {
            return Ok(());
        }
        let conn_inner = &conn.inner;
        let work = conn.take_key_work();
        // Only additions to the schema, all seen by the authorizer: read those alone.
        let additions = !work.pragma && !work.reshaped && !outside;
        let (after, scope) = match before {
            None => (Schema::read(conn_inner)?, Scope::Everything),
            Some(before) => {
                let extended = if additions {
                    before.extend(conn_inner)?
                } else {
                    Err(before)
                };
                let (after, changes) = match extended {
                    Ok(extended) => extended,
                    Err(before) => {
                        let after = Schema::read(conn_inner)?;
                        let changes = before.diff(&after);
                        (after, changes)
                    }
                };
                if !work.pragma && changes.is_empty() {
                    self.carry(conn_inner, after)?;
                    return Ok(());
                }
                let depth = to_check(conn_inner, &after, &changes, &work)?;
                (after, Scope::Tables(depth))
            }
        };
        let found = match run(conn_inner, &scope, false) {
            Ok(found) => found,
            Err(unresolved) => {
                // Was it so before the migration already?
                let before = savepoint
                    && conn_inner
                        .execute_batch(&format!("ROLLBACK TO {SAVEPOINT}"))
                        .is_ok()
                    && conn_inner
                        .prepare(&check_sql(unresolved.table.as_deref()))
                        .is_err();
                return Err(unresolved.message(before).into());
            }
        };
        if found.is_empty() {
            // `writable_schema` can change the schema without changing its version, which
            // the next `begin` could not tell: no carrying then.
            if !work.pragma {
                self.carry(conn_inner, after)?;
            }
            return Ok(());
        }
        // Found some: which of them were there before? Only the database as it was can
        // say, and the migration is refused anyway.
        let earlier = if savepoint {
            conn_inner.execute_batch(&format!("ROLLBACK TO {SAVEPOINT}"))?;
            Some(run(conn_inner, &scope, true).unwrap_or_default())
        } else {
            None
        };
        Err(refusal(&found, earlier.as_deref(), work.pragma).into())
    }

    /// Keeps `after` for the next step's `begin`, with what tells whether it still holds.
    fn carry(&mut self, conn: &Connection, after: Schema) -> rusqlite::Result<()> {
        self.carried = Some(Carried {
            schema: after,
            data_version: self.data_version,
            schema_version: schema_version(conn)?,
        });
        Ok(())
    }
}

impl Carried {
    /// Whether the schema is still the database's: no other connection committed (this
    /// connection's own commit of the step does not change `data_version`) and no
    /// statement changed the schema since it was read.
    fn holds(&self, conn: &Connection, data_version: i64) -> rusqlite::Result<bool> {
        Ok(data_version == self.data_version && schema_version(conn)? == self.schema_version)
    }
}

/// `PRAGMA schema_version`: a header field, changed by every schema change made by SQL.
fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("PRAGMA schema_version")?
        .query_row([], |row| row.get(0))
}

/// The tables whose foreign keys the changes could have broken, and how deep to look at
/// each. Schema only: no table's rows are read.
fn to_check(
    conn: &Connection,
    after: &Schema,
    changes: &[(String, Change)],
    work: &KeyWork,
) -> rusqlite::Result<BTreeMap<String, Depth>> {
    let mut depth = BTreeMap::new();
    let mut want = |key: &str, d: Depth| {
        // A table without REFERENCES in its definition has no foreign key to check.
        if after.tables.get(key).is_some_and(|t| t.has_references) {
            let entry = depth.entry(key.to_owned()).or_insert(d);
            *entry = (*entry).max(d);
        }
    };
    // What a change of each parent means for its children.
    let mut parents: BTreeMap<&str, Depth> = BTreeMap::new();
    for (key, change) in changes {
        match change {
            // Created: its rows are new; under a name nobody had, it can only resolve
            // its children's rows, never orphan them.
            Change::Created => {
                want(key, Depth::Rows);
                deepen(&mut parents, key, Depth::Resolve);
            }
            // Rebuilt: a new b-tree, so rows copied in, and other rows for its children.
            Change::Rebuilt => {
                want(key, Depth::Rows);
                deepen(&mut parents, key, Depth::Rows);
            }
            // Altered in place: the same rows under a new definition.
            Change::Altered => {
                want(key, Depth::Resolve);
                deepen(&mut parents, key, Depth::Resolve);
            }
            Change::Dropped => deepen(&mut parents, key, Depth::Rows),
        }
    }
    if work.pragma {
        // SQLite's own checks may have been off: rows written, as child or as parent.
        for key in &work.written {
            want(key, Depth::Rows);
            deepen(&mut parents, key, Depth::Rows);
        }
    }
    if parents.is_empty() {
        return Ok(depth);
    }
    // Their children: tables whose definition names one of them, confirmed by their list
    // of foreign keys (a query per such table, not per table of the database).
    let mut list = None;
    for key in &after.referencing {
        let table = &after.tables[key];
        let named: Vec<(&str, Depth)> = parents
            .iter()
            .filter(|(name, _)| mentions(&table.create, name))
            .map(|(name, d)| (*name, *d))
            .collect();
        if named.is_empty() {
            continue;
        }
        let list = match &mut list {
            Some(list) => list,
            None => list
                .insert(conn.prepare_cached("SELECT \"table\" FROM pragma_foreign_key_list(?1)")?),
        };
        let referenced: Vec<String> = list
            .query_map([&table.name], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for (name, d) in named {
            if referenced.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                want(key, d);
            }
        }
    }
    Ok(depth)
}

/// Records `d` for `key`, or keeps the deeper of the two.
fn deepen<'k>(map: &mut BTreeMap<&'k str, Depth>, key: &'k str, d: Depth) {
    let entry = map.entry(key).or_insert(d);
    *entry = (*entry).max(d);
}

/// Whether the lower-cased definition `sql` names the table `key` (lower-cased) as a
/// whole identifier. A name SQLite would have to escape in quotes always counts.
fn mentions(sql: &str, key: &str) -> bool {
    if key.contains(['"', '`', '\'', ']']) {
        return true;
    }
    let is_ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    sql.match_indices(key).any(|(at, _)| {
        !is_ident(sql[..at].chars().next_back()) && !is_ident(sql[at + key.len()..].chars().next())
    })
}

/// `PRAGMA foreign_key_check` for one table, or for the whole database.
fn check_sql(table: Option<&str>) -> String {
    match table {
        Some(table) => format!("PRAGMA foreign_key_check({})", quote(table)),
        None => "PRAGMA foreign_key_check".to_owned(),
    }
}

/// Runs the check over `scope`. `before`: on the database as it was before the migration,
/// where a table it created does not exist yet (no violations there).
fn run(conn: &Connection, scope: &Scope, before: bool) -> Result<Vec<Violation>, Unresolved> {
    let mut found = Vec::new();
    let tables: Vec<(Option<&str>, Depth)> = match scope {
        Scope::Everything => vec![(None, Depth::Rows)],
        Scope::Tables(tables) => tables.iter().map(|(t, d)| (Some(t.as_str()), *d)).collect(),
    };
    for (table, depth) in tables {
        let unresolved = |error| Unresolved {
            table: table.map(str::to_owned),
            error,
        };
        // Preparing is where SQLite resolves each foreign key to its parent's columns.
        let mut statement = match conn.prepare(&check_sql(table)) {
            Ok(statement) => statement,
            Err(_) if before => continue,
            Err(error) => return Err(unresolved(error)),
        };
        if depth == Depth::Resolve {
            continue;
        }
        let rows = statement
            .query_map([], |row| {
                Ok(Violation {
                    table: row.get(0)?,
                    rowid: row.get(1)?,
                    parent: row.get(2)?,
                    key: row.get(3)?,
                })
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>());
        match rows {
            Ok(rows) => found.extend(rows),
            Err(_) if before => {}
            Err(error) => return Err(unresolved(error)),
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

impl Unresolved {
    fn message(&self, before: bool) -> String {
        let whose = self
            .table
            .as_deref()
            .map_or_else(|| "a table".to_owned(), |t| format!("table {t:?}"));
        format!(
            "with foreign keys enforced, after the migration the foreign keys of {whose} cannot \
             be checked: {}{}; the columns a foreign key refers to must exist and be the \
             parent's primary key or have a UNIQUE index, so make the migration keep (or \
             recreate) them, or change the foreign key",
            self.error,
            if before {
                " (it was so before this migration too, which changed the table or its parent)"
            } else {
                ""
            },
        )
    }
}

/// The refusal: how many violations, the first few, which existed before, what to do.
fn refusal(found: &[Violation], before: Option<&[Violation]>, pragma: bool) -> String {
    let existed = |v: &Violation| before.is_some_and(|b| b.iter().any(|e| e.same_row(v)));
    let old = found.iter().filter(|v| existed(v)).count();
    let where_ = if pragma {
        "in tables the migration wrote, rebuilt or whose parent it changed (it set \
         foreign_keys, defer_foreign_keys or writable_schema, which let rows through unchecked)"
    } else {
        "in tables the migration rebuilt, or whose parent table it changed"
    };
    let mut text = format!(
        "with foreign keys enforced, the migration leaves {} foreign-key violation{} {where_}:",
        found.len(),
        if found.len() == 1 { "" } else { "s" },
    );
    for v in found.iter().take(LISTED) {
        let rowid = v
            .rowid
            .map_or_else(|| "(WITHOUT ROWID)".to_owned(), |r| r.to_string());
        let _ = write!(
            text,
            " table {:?} rowid {rowid} refers to a missing row of {:?} (foreign key #{}){};",
            v.table,
            v.parent,
            v.key,
            if existed(v) {
                ", a row that existed before this migration"
            } else {
                ""
            },
        );
    }
    if found.len() > LISTED {
        let _ = write!(text, " and {} more;", found.len() - LISTED);
    }
    match before {
        None => text.push_str(
            " (whether these rows existed before the migration is unknown: it ran outside a \
             transaction)",
        ),
        Some(_) if old == found.len() => {
            let _ = write!(
                text,
                " all {old} existed before this migration (rows written with foreign keys off), \
                 and it rebuilt their table or their parent;"
            );
        }
        Some(_) if old > 0 => {
            let _ = write!(text, " {old} of them existed before this migration;");
        }
        Some(_) => {}
    }
    let first = &found[0];
    let _ = write!(
        text,
        " list them with `PRAGMA foreign_key_check({})`, then make the migration (or one \
         applied before it) delete those rows, point them at existing rows of {:?}, or create \
         the missing parent rows",
        quote(&first.table),
        first.parent,
    );
    text
}

/// `name` as an SQL identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
