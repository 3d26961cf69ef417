//! The one integration test binary: every test runs the real `tfe-admin` binary (or the
//! sandbox it embeds) over real HTTP on 127.0.0.1. One module per command or concern; the
//! shared helpers are in `common`. One binary links the crate once (ten binaries linked it
//! ten times) and lets helpers be shared without `dead_code` allowances.

mod common;

mod apply;
mod bad_input;
mod ci_recipes;
mod clients;
mod collections;
mod completions;
mod connection;
mod docs;
mod examples;
mod export;
mod hints;
mod hostile;
mod output;
mod plan;
mod quickstart;
mod rate_limit;
mod references;
mod release;
mod sandbox;
mod tls;
mod values;
