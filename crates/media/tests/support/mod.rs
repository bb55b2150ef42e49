//! Helpers for convene-media's integration tests.

#![allow(dead_code)] // each test binary uses a part of this module

pub mod sound;
