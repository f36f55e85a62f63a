//! Real-cluster harness helpers for the integration tests.
