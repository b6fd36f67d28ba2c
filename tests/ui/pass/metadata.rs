//! Tags, a category and dependencies, by struct (also through a path and in another
//! module) and by version; `after = []` declares none.
use migrate_sqlite::{BoxError, Db, Migration, migration};

mod users {
    use migrate_sqlite::{BoxError, Db, Migration, migration};

    #[migration(version = 1, description = "Create chat_users", irreversible, tags = ["users"])]
    pub struct CreateChatUsers;

    impl Migration for CreateChatUsers {
        fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
            db.execute("CREATE TABLE chat_users (id INTEGER PRIMARY KEY)")
        }
    }
}

#[migration(version = 2, description = "Create reports", irreversible, after = [], category = "schema")]
pub struct CreateReports;

impl Migration for CreateReports {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("CREATE TABLE reports (id INTEGER PRIMARY KEY)")
    }
}

#[migration(
    version = 3,
    description = "Add is_spammer",
    irreversible,
    tags = ["spam", "slow", "v2.1", "data_fix"],
    category = "data",
    after = [users::CreateChatUsers, 2,],
)]
pub struct AddIsSpammer;

impl Migration for AddIsSpammer {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("ALTER TABLE chat_users ADD COLUMN is_spammer INTEGER NOT NULL DEFAULT 0")
    }
}

fn main() {
    let migration = AddIsSpammer::get_migration();
    assert_eq!(migration.tags(), ["spam", "slow", "v2.1", "data_fix"]);
    assert_eq!(migration.category(), Some("data"));
    assert_eq!(migration.dependencies(), Some(&[1, 2][..]));
    assert_eq!(CreateReports::get_migration().dependencies(), Some(&[][..]));
    assert_eq!(users::CreateChatUsers::get_migration().dependencies(), None);
    assert_eq!(users::CreateChatUsers::get_migration().category(), None);
}
