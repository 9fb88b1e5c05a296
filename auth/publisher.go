package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
)

// PublisherTokens holds the static tokens that may publish. Tokens are
// compared by their SHA-256 in constant time, so neither a token's length
// nor its content leaks through timing.
type PublisherTokens struct {
	// immutable after NewPublisherTokens
	sums [][sha256.Size]byte
}

// NewPublisherTokens returns the set of tokens; empty strings are ignored.
// Tokens shorter than 16 bytes are refused: they are guessable.
func NewPublisherTokens(tokens []string) (*PublisherTokens, error) {
	p := &PublisherTokens{}
	for _, t := range tokens {
		if t == "" {
			continue
		}
		if len(t) < 16 {
			return nil, errors.New("auth: publisher token shorter than 16 characters")
		}
		p.sums = append(p.sums, sha256.Sum256([]byte(t)))
	}
	return p, nil
}

// Len is the number of configured tokens.
func (p *PublisherTokens) Len() int { return len(p.sums) }

// Check reports whether token is one of the publisher tokens.
func (p *PublisherTokens) Check(token string) bool {
	if p == nil || token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(token))
	ok := 0
	for i := range p.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], p.sums[i][:])
	}
	return ok == 1
}
