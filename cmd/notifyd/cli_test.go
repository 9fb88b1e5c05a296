package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPublishCommand: `notifyd publish` from flags and from stdin reaches
// the target's websocket; a refused publish exits 1 with the server's
// message.
func TestPublishCommand(t *testing.T) {
	g := startGateway(t, nil)
	bob := dial(t, g, token(t, "users:bob"))
	waitSessions(t, g, 1)

	var out, errOut bytes.Buffer
	code := run(t.Context(), []string{"publish", "-url", "http://" + g.addr, "-host", testSite, "-token", publisherToken,
		"-title", "from the CLI", "-message", "hello", "-target", "users:bob"}, env(nil), &out, &errOut)
	var answer map[string]any
	if code != 0 || json.Unmarshal(out.Bytes(), &answer) != nil || answer["id"] == nil {
		t.Fatalf("publish: code %d, out %q, err %q", code, out.String(), errOut.String())
	}
	if m := read(t, bob); m["title"] != "from the CLI" || m["id"] != answer["id"] {
		t.Fatalf("bob got %v", m)
	}

	doc := `{"host":"` + testSite + `","action":"notify","category":"test","title":"from stdin","message":"m",` +
		`"source":{"id":"users:system","title":"System"},"target":{"principals":["users:bob"]}}`
	out.Reset()
	if err := runPublish(t.Context(), []string{"-url", "http://" + g.addr, "-json", "-"}, env(map[string]string{"NOTIFYD_PUBLISH_TOKENS": publisherToken}),
		strings.NewReader(doc), &out, &errOut); err != nil {
		t.Fatalf("publish -json -: %v", err)
	}
	if m := read(t, bob); m["title"] != "from stdin" {
		t.Fatalf("bob got %v", m)
	}

	errOut.Reset()
	code = run(t.Context(), []string{"publish", "-url", "http://" + g.addr, "-token", "not-a-publisher-token", "-title", "x"}, env(nil), &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "publisher token") {
		t.Fatalf("refused publish: code %d, err %q", code, errOut.String())
	}
}

// TestTokenCommandWithKey: a token minted by `notifyd token -alg EdDSA
// -key` is accepted by a gateway configured with the public key, audience
// and issuer.
func TestTokenCommandWithKey(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	dir := t.TempDir()
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(pub)
	pubFile := filepath.Join(dir, "pub.pem")
	if err := os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	policy := map[string]string{"NOTIFYD_JWT_AUDIENCE": "notifyd", "NOTIFYD_JWT_ISSUER": "https://idp.example"}
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"token", "-sub", "users:carol", "-alg", "EdDSA", "-key", keyFile}, env(policy), &out, &errOut); code != 0 {
		t.Fatalf("token: %d %s", code, errOut.String())
	}
	gwEnv := map[string]string{"NOTIFYD_JWT_SECRET": "", "NOTIFYD_JWT_PUBLIC_KEY": pubFile}
	for k, v := range policy {
		gwEnv[k] = v
	}
	g := startGateway(t, gwEnv)
	resp := get(t, g.url("/api/chat/context"), strings.TrimSpace(out.String()))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("context with the minted token: %d", resp.StatusCode)
	}
}

// TestConsoleServed: the daemon serves the console's page with its strict
// content security policy.
func TestConsoleServed(t *testing.T) {
	g := startGateway(t, nil)
	resp := get(t, g.url("/console/"), "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Fatalf("GET /console/: %d %v", resp.StatusCode, resp.Header)
	}
}
