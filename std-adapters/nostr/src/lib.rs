#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod event;
pub mod nip11;
pub mod wire;
pub mod wrap;
