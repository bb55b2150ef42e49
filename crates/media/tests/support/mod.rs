//! Helpers for convene-media's integration tests.

pub mod pipewire;
