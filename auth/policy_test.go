package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/notifyd/notifyd/message"
)

// signAt signs claims with the test secret, filling sub and exp unless set.
func signAt(tb testing.TB, claims jwt.MapClaims) string {
	tb.Helper()
	if _, ok := claims["sub"]; !ok {
		claims["sub"] = "users:alice"
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func newTestVerifier(tb testing.TB, cfg Config) *Verifier {
	tb.Helper()
	cfg.Secret = secret
	v, err := NewVerifier(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// claimCase is a token's claims and whether Verify accepts it.
type claimCase struct {
	name   string
	claims jwt.MapClaims
	ok     bool // else Verify fails with ErrInvalidToken
}

func runClaimCases(t *testing.T, v *Verifier, tests []claimCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(context.Background(), signAt(t, tt.claims))
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrInvalidToken) {
				t.Fatalf("Verify = %v, want ok=%v (else ErrInvalidToken)", err, tt.ok)
			}
		})
	}
}

func TestAudienceAndIssuer(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, Config{Audience: "notifyd", Issuer: "https://idp.example"})
	exp := time.Now().Add(time.Hour).Unix()
	tests := []claimCase{
		{"both match", jwt.MapClaims{"exp": exp, "aud": "notifyd", "iss": "https://idp.example"}, true},
		{"audience among several", jwt.MapClaims{"exp": exp, "aud": []any{"other", "notifyd"}, "iss": "https://idp.example"}, true},
		{"no audience", jwt.MapClaims{"exp": exp, "iss": "https://idp.example"}, false},
		{"other audience", jwt.MapClaims{"exp": exp, "aud": "other", "iss": "https://idp.example"}, false},
		{"no issuer", jwt.MapClaims{"exp": exp, "aud": "notifyd"}, false},
		{"other issuer", jwt.MapClaims{"exp": exp, "aud": "notifyd", "iss": "https://evil.example"}, false},
	}
	runClaimCases(t, v, tests)
	// Unset, neither is required nor checked.
	free := newTestVerifier(t, Config{})
	if _, err := free.Verify(context.Background(), signAt(t, jwt.MapClaims{"exp": exp, "aud": "x", "iss": "y"})); err != nil {
		t.Fatalf("without Audience and Issuer: %v", err)
	}
}

func TestLeeway(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	tests := []struct {
		name   string
		leeway time.Duration
		want   time.Duration // the effective leeway
	}{
		{"zero value is the default", 0, DefaultLeeway},
		{"configured", 20 * time.Second, 20 * time.Second},
		{"negative is none", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := newTestVerifier(t, Config{Leeway: tt.leeway, Now: clock})
			if got := v.Leeway(); got != tt.want {
				t.Fatalf("Leeway() = %v, want %v", got, tt.want)
			}
			exp := now.Add(-tt.want) // expired exactly the leeway ago: refused
			if _, err := v.Verify(context.Background(), signAt(t, jwt.MapClaims{"exp": exp.Unix()})); !errors.Is(err, ErrExpired) {
				t.Fatalf("token expired %v ago: %v, want ErrExpired", tt.want, err)
			}
			exp = now.Add(-tt.want + time.Second) // one second less: accepted, valid until exp+leeway
			id, err := v.Verify(context.Background(), signAt(t, jwt.MapClaims{"exp": exp.Unix()}))
			if err != nil {
				t.Fatalf("token within the leeway: %v", err)
			}
			if id.Leeway != tt.want || !id.ValidUntil().Equal(exp.Add(tt.want)) {
				t.Fatalf("Leeway %v, ValidUntil %v; want %v, %v", id.Leeway, id.ValidUntil(), tt.want, exp.Add(tt.want))
			}
			// ValidUntil is exactly when Verify starts refusing the token.
			tok := signAt(t, jwt.MapClaims{"exp": exp.Unix()})
			for _, at := range []struct {
				t  time.Time
				ok bool
			}{{id.ValidUntil().Add(-time.Nanosecond), true}, {id.ValidUntil(), false}} {
				v := newTestVerifier(t, Config{Leeway: tt.leeway, Now: func() time.Time { return at.t }})
				if _, err := v.Verify(context.Background(), tok); (err == nil) != at.ok {
					t.Fatalf("Verify at ValidUntil%+v: %v, want ok=%v", at.t.Sub(id.ValidUntil()), err, at.ok)
				}
			}
		})
	}
	if (Identity{}).ValidUntil() != (time.Time{}) {
		t.Fatal("an identity without expiry must have a zero ValidUntil")
	}
}

func TestPrincipalLength(t *testing.T) {
	t.Parallel()
	v := newTestVerifier(t, Config{})
	exp := time.Now().Add(time.Hour).Unix()
	longest := strings.Repeat("é", message.MaxPrincipalLength/2) // exactly the limit, in bytes
	tooLong := longest + "x"
	tests := []claimCase{
		{"sub at the limit", jwt.MapClaims{"sub": longest, "exp": exp}, true},
		{"sub over the limit", jwt.MapClaims{"sub": tooLong, "exp": exp}, false},
		{"principal at the limit", jwt.MapClaims{"exp": exp, "principals": []any{"g", longest}}, true},
		{"principal over the limit", jwt.MapClaims{"exp": exp, "principals": []any{"g", tooLong}}, false},
		{"single principal over the limit", jwt.MapClaims{"exp": exp, "principals": tooLong}, false},
	}
	runClaimCases(t, v, tests)
}
