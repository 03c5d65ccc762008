//! What several of the server's test files share.

#![allow(dead_code)] // Each test file uses a part.

pub(crate) mod admin;
pub(crate) mod child;
pub(crate) mod db;
