//! WARC 1.1 writing and reading: one gzip member per record.
