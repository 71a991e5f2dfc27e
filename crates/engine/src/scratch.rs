//! Scratch databases: where `check`, `verify`, `stamp --verify` and the server normaliser replay
//! SQL without touching the real database. `ScratchProvider` is the seam another source plugs into.

use anyhow::{Context, Result};
use retort_connect::ConnectSettings;

/// A throwaway database, removed when dropped.
pub trait Scratch {
    /// A new connection to it.
    fn connect(&self) -> Result<postgres::Client>;
}

/// Where scratch databases come from.
pub trait ScratchProvider {
    /// A new, empty scratch database.
    fn create(&self) -> Result<Box<dyn Scratch>>;
}

impl<P: ScratchProvider + ?Sized> ScratchProvider for &P {
    fn create(&self) -> Result<Box<dyn Scratch>> {
        (**self).create()
    }
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
