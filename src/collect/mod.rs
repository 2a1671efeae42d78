//! Collect: posts in, citations out. Never does network I/O for local inputs.

pub mod url;
