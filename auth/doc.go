// Package auth verifies the JSON Web Tokens that browsers and services present,
// extracts tokens from HTTP requests the ways PyAMS's clients send them, and
// checks publisher tokens.
//
// Tokens are verified locally (no call to an authority) with a pinned set of
// algorithms: HS256/384/512 with a shared secret, or RS*/PS*/ES*/EdDSA with
// public keys. Every token must carry exp; sub is the principal id, at most
// MaxPrincipalLength (message.MaxPrincipalLength) bytes, as is each entry of
// the principals claim: a longer principal could be neither targeted nor
// revoked, so such a token is refused (ErrInvalidToken).
//
// Token policy is a Config: Issuer and Audience, when set, are required and
// checked; Leeway (default DefaultLeeway, 5 s; negative for none) tolerates
// clock skew on exp, nbf and iat. The same leeway is carried on the Identity
// so that every consumer applies it the same way: Identity.ValidUntil
// (exp+leeway) is when a connection authenticated by the token must end,
// the instant Verify starts refusing it, and Identity.RevokedBy (iat <=
// revocation+leeway) is what Revocable and any re-check of open connections
// refuse after a revocation.
//
// A Verifier and a PublisherTokens are immutable after construction and safe
// for concurrent use.
package auth
