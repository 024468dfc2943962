//! The lab's decisions, in the core: which settings each result depends on (its cache key), and
//! the config the page writes, parsed and checked with serde.

pub mod config;
