#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod body;
pub mod engine;
pub mod event;
pub mod pool;
pub mod sanitize;
pub mod store;
pub mod wrap;
