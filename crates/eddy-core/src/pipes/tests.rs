//! Unit tests: record shapes, filtering, input templates, validation.
