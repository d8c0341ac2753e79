//! What the integration tests share.

#![allow(dead_code)] // each test binary uses its own part of it

pub mod lab;
pub mod schema;
