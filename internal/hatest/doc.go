// Package hatest holds integration tests of notifyd on highly available and
// scaled-out Redis: a real Redis Cluster (with and without replicas) and a
// Sentinel-monitored master with a replica, all started by internal/redistest.
//
// The tests build "gateways" from the real pipeline, as cmd/notifyd does:
// each gateway is a history.Store and a pubsub.Subscriber, delivering to a
// recording Sink, on its own redis.UniversalClient made by
// redis.NewUniversalClient from the addresses (and, for Sentinel, the master
// name) that NOTIFYD_REDIS_ADDRS and NOTIFYD_REDIS_MASTER_NAME configure.
// Messages are published with pubsub.Publisher and as bare PUBLISHes of the
// JSON PyAMS writes. The tests kill servers and check that every gateway
// delivers every message exactly once, that the history stores each message
// exactly once, and that Redis being unreachable is reported as
// pubsub.ErrUnavailable (history.ErrUnavailable for history reads) rather
// than swallowed.
//
// The package has no non-test code besides this comment. Each test owns its
// own Redis processes, so tests run in parallel; every wait polls with a
// generous deadline.
package hatest
