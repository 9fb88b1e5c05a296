// Package redistest starts real redis-server processes on free loopback ports
// for integration tests: a single server (Start), a Redis Cluster
// (StartCluster, StartClusterConfig) and a Sentinel-monitored master with a
// replica (StartSentinel). Every process is stopped by tb.Cleanup; tests may
// kill and restart any of them to simulate faults.
//
// When redis-server is not installed the calling test is skipped, unless the
// CI environment variable is set, in which case it fails: CI must exercise
// the real thing.
//
// Call sends any command and decodes the whole reply, Info reads an INFO
// section and KeySlot computes a key's Cluster hash slot, for tests that
// inspect servers without a client library. Call stays a small RESP2
// client rather than go-redis's Do: one dial, one command, one reply, no
// handshake (HELLO, CLIENT SETINFO), no pool, no retry and no Cluster
// redirect following, so a test sees exactly what that one server answers,
// a killed or loading node included; it serves tests only, so users gain
// nothing from a swap.
//
// Server directories are in /dev/shm when it exists: Sentinel and Cluster
// nodes fsync their configuration on every change, and a slow fsync on a
// busy disk stalls them long enough to trigger Sentinel's TILT mode or a
// node-timeout. Sentinels also get shorter hello and TILT periods through
// SENTINEL DEBUG.
//
// Nothing here sleeps to synchronise: every wait polls the servers with a
// short interval until a condition holds or a deadline passes. What can
// fail the test (the Start functions, Restart, and the Cluster and Sentinel
// methods that query servers or wait) must be called from the test's
// goroutine; Server's Do, Call, Kill, Stop, Running and accessors may be
// called from any goroutine.
package redistest
