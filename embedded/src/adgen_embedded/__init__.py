"""The embedded local infrastructure: NATS with JetStream, PostgreSQL with pgvector and an S3 store,
run from the binaries of our own wheels on free loopback ports, for `adgen up` and the tests."""
