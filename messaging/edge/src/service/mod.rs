//! The skeleton both services share: their common settings, the process
//! around them, and what they stand on (database, broker, listener) and how
//! they stop. Each service declares only its own parts.

mod config;
mod foundation;
mod process;
mod settings;

pub use config::{ServiceConfig, ServiceDefaults, variables};
pub use foundation::Foundation;
pub use process::{Configuration, prepare};
pub use settings::{ConfigError, Settings};
