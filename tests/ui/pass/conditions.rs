//! `when = ..` accepts a predicate returning `bool`, `When`, `Result<bool, _>` or
//! `Result<When, _>` (by a path, also into another module), and `environments = [..]`
//! lists where a migration runs, alone or with `when`; also when a `macro_rules!` macro
//! writes the attribute.
use migrate_core::{PlanContext, When};
use migrate_sqlite::{BoxError, Db, Migration, migration};

fn always(_: &mut PlanContext<'_>) -> bool {
    true
}

fn not_in_production(context: &mut PlanContext<'_>) -> When {
    match context.environment() {
        Some("production") => When::Skip("never in production".to_owned()),
        _ => When::Run,
    }
}

mod checks {
    use migrate_core::{PlanContext, When};

    /// An error of its own type: anything that converts to `BoxError`.
    #[derive(Debug)]
    pub struct NoDatabase;

    impl std::fmt::Display for NoDatabase {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("no database")
        }
    }

    impl std::error::Error for NoDatabase {}

    pub fn has_users(context: &mut PlanContext<'_>) -> Result<bool, NoDatabase> {
        Ok(context.is_applied(1))
    }

    pub fn on_sqlite(context: &mut PlanContext<'_>) -> Result<When, migrate_core::BoxError> {
        context.db().execute("SELECT 1")?;
        Ok(if context.backend() == "sqlite" {
            When::Run
        } else {
            When::Skip("SQLite only".to_owned())
        })
    }
}

macro_rules! seed {
    ($name:ident, $version:literal, $($condition:tt)*) => {
        #[migration(version = $version, description = "Seed", irreversible, $($condition)*)]
        pub struct $name;

        impl Migration for $name {
            fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
                db.execute("SELECT 1")
            }
        }
    };
}

#[migration(version = 1, description = "Seed", irreversible, when = always)]
pub struct ByBool;

impl Migration for ByBool {
    fn up(&self, db: &mut dyn Db) -> Result<(), BoxError> {
        db.execute("SELECT 1")
    }
}

seed!(ByWhen, 2, when = not_in_production);
seed!(ByResultBool, 3, when = checks::has_users);
seed!(ByResultWhen, 4, when = crate::checks::on_sqlite);
seed!(InEnvironments, 5, environments = ["dev", "test"]);
seed!(Both, 6, environments = ["ci"], when = always,);

fn main() {
    assert_eq!(ByBool::get_migration().condition(), Some("always"));
    assert_eq!(ByWhen::get_migration().condition(), Some("not_in_production"));
    assert_eq!(
        ByResultBool::get_migration().condition(),
        Some("checks::has_users")
    );
    assert_eq!(
        ByResultWhen::get_migration().condition(),
        Some("crate::checks::on_sqlite")
    );
    assert_eq!(ByBool::get_migration().environments(), None);
    let environments = InEnvironments::get_migration();
    assert_eq!(environments.environments(), Some(&["dev", "test"][..]));
    assert_eq!(environments.condition(), None);
    assert!(environments.is_conditional());
    assert_eq!(Both::get_migration().environments(), Some(&["ci"][..]));
    assert_eq!(Both::get_migration().condition(), Some("always"));
}
