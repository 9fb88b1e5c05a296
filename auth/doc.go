// Package auth verifies the JSON Web Tokens that browsers and services present,
// extracts tokens from HTTP requests the ways PyAMS's clients send them, and
// checks publisher tokens.
//
// Tokens are verified locally (no call to an authority) with a pinned set of
// algorithms: HS256/384/512 with a shared secret, or RS*/PS*/ES*/EdDSA with
// public keys. Every token must carry exp; sub is the principal id.
//
// A Verifier and a PublisherTokens are immutable after construction and safe
// for concurrent use.
package auth
