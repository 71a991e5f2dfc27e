//! Scratch databases: where `check`, `verify`, `stamp --verify` and the server normaliser replay
//! SQL without touching the real database. `ScratchProvider` is the seam another source plugs into.

use anyhow::{Context, Result};
use retort_connect::ConnectSettings;

use crate::cache::ScratchCache;

/// A throwaway database, removed when dropped.
pub trait Scratch {
    /// A new connection to it.
    fn connect(&self) -> Result<postgres::Client>;
}

/// Where scratch databases come from.
pub trait ScratchProvider {
    /// A new, empty scratch database.
    fn create(&self) -> Result<Box<dyn Scratch>>;

    /// Where results of scratch work are kept between runs (`cache`); `None`: every run
    /// recomputes them.
    fn cache(&self) -> Option<&ScratchCache> {
        None
    }

    /// What the scratch server's answers depend on, part of every cache key: `PostgreSQL <major>`.
    /// Asked only when `cache` is set; by default a scratch database is made to ask it.
    fn identity(&self) -> Result<String> {
        let scratch = self.create()?;
        server_identity(&mut scratch.connect()?)
    }

    /// The extensions of the database being compared with, as (schema, name): the scratch
    /// databases that canonicalise model expressions create them too, where the server can, so
    /// the models may use their types and functions. None by default.
    fn extensions(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

impl<P: ScratchProvider + ?Sized> ScratchProvider for &P {
    fn create(&self) -> Result<Box<dyn Scratch>> {
        (**self).create()
    }
    fn cache(&self) -> Option<&ScratchCache> {
        (**self).cache()
    }
    fn identity(&self) -> Result<String> {
        (**self).identity()
    }
    fn extensions(&self) -> Vec<(String, String)> {
        (**self).extensions()
    }
}

/// `PostgreSQL <major>` of the server behind `client`.
pub fn server_identity(client: &mut postgres::Client) -> Result<String> {
    let row = client.query_typed_one("SELECT current_setting('server_version_num')::int", &[])?;
    Ok(format!("PostgreSQL {}", row.get::<_, i32>(0) / 10000))
}

/// Connects with resolved settings; the error says which server failed and why (the caller
/// hides credentials before printing it).
pub fn connect_settings(s: &ConnectSettings, purpose: &str) -> Result<postgres::Client> {
    retort_connect::connect(s).map_err(|e| match e {
        retort_connect::Error::Connect { target, reasons } => anyhow::anyhow!(
            "cannot connect to the database at {target}{purpose}: {}",
            reasons.join("; ")
        ),
        other => anyhow::anyhow!("cannot connect to the database: {other}"),
    })
}

/// Scratch databases created with `CREATE DATABASE` on the configured server (the user needs
/// CREATEDB), next to the real one.
#[derive(Debug, Clone)]
pub struct ServerScratch {
    /// The configured server and credentials; the database name is replaced.
    pub settings: ConnectSettings,
}

impl ScratchProvider for ServerScratch {
    fn create(&self) -> Result<Box<dyn Scratch>> {
        Ok(Box::new(ScratchDb::create(&self.settings)?))
    }
    fn identity(&self) -> Result<String> {
        let admin = self.settings.with_dbname("postgres");
        server_identity(&mut connect_settings(
            &admin,
            " to create a scratch database",
        )?)
    }
}

/// A throwaway database on the configured server, dropped on drop.
pub struct ScratchDb {
    admin: ConnectSettings,
    /// The scratch database: the configured server and credentials, another dbname.
    pub settings: ConnectSettings,
    name: String,
}

impl ScratchDb {
    pub fn create(base: &ConnectSettings) -> Result<ScratchDb> {
        let name = format!(
            "retort_scratch_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let admin = base.with_dbname("postgres");
        let mut client = connect_settings(&admin, " to create a scratch database")?;
        client
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .context("cannot create a scratch database (does the user have CREATEDB?)")?;
        Ok(ScratchDb {
            settings: base.with_dbname(&name),
            admin,
            name,
        })
    }

    pub fn connect(&self) -> Result<postgres::Client> {
        connect_settings(&self.settings, "")
    }
}

impl Scratch for ScratchDb {
    fn connect(&self) -> Result<postgres::Client> {
        ScratchDb::connect(self)
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        if let Ok(mut c) = retort_connect::connect(&self.admin) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
