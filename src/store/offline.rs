//! Self-contained offline pages: requisites found, inlined, scripts out.
