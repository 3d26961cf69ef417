//! tfe-admin: the site-admin settings of a Terraform Enterprise installation, managed as code.
//!
//! The pipeline runs one way: `config` (load, merge, interpolate, validate) produces a
//! [`desired::DesiredState`]; every stage reads the endpoint descriptions in [`catalogue`].

pub mod api;
pub mod apply;
pub mod bounded;
pub mod catalogue;
pub mod certificate;
pub mod cli;
pub mod commands;
pub mod config;
pub mod desired;
pub mod diff;
pub mod error;
pub mod export;
pub mod live;
pub mod options;
pub mod output;
pub mod plan;
pub mod redact;
pub mod render;
pub mod sandbox;
pub mod secret;
