//! tfe-admin: the site-admin settings of a Terraform Enterprise installation, managed as code.
//!
//! The pipeline runs one way: `config` (load, merge, interpolate, validate) produces a
//! [`desired::DesiredState`]; every stage reads the endpoint descriptions in [`catalogue`].

pub mod catalogue;
pub mod cli;
pub mod commands;
pub mod config;
pub mod desired;
pub mod error;
pub mod options;
