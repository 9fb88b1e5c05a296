package console

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/notifyd/notifyd/clients/js"
)

// TestNoMarkupSinks: the console never turns text into markup. Server and
// user text goes into textContent and text nodes only (README: "Text, never
// markup"); these sinks, eval-like calls and inline handlers appear in no
// file the browser gets.
func TestNoMarkupSinks(t *testing.T) {
	t.Parallel()
	sinks := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\b|` +
		`createContextualFragment|DOMParser|srcdoc|setHTMLUnsafe|parseHTMLUnsafe|javascript:|\son[a-z]+\s*=\s*["']|<style|style=`)
	n := 0
	eachFile(t, func(p string, b []byte) {
		n++
		for i, line := range strings.Split(string(b), "\n") {
			if m := sinks.FindString(line); m != "" {
				t.Errorf("%s:%d uses %q: build nodes and set textContent instead", p, i+1, m)
			}
		}
	})
	if n < 5 {
		t.Fatalf("checked %d files: the walk missed the console", n)
	}
}

// TestNoExternalResources: nothing is fetched from another origin (no CDN):
// every src and href in the HTML is relative, and no script imports a URL.
func TestNoExternalResources(t *testing.T) {
	t.Parallel()
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|import[^;]*["'](https?:)?//|@import|url\(\s*["']?(https?:)?//`)
	eachFile(t, func(p string, b []byte) {
		if strings.HasSuffix(p, ".svg") {
			return // the xmlns URI is a name, not a fetch
		}
		if m := external.FindString(string(b)); m != "" {
			t.Errorf("%s refers to another origin: %q", p, m)
		}
	})
}

// eachFile calls fn with every file the console serves: its embedded files
// and the browser client's module.
func eachFile(t *testing.T, fn func(path string, content []byte)) {
	t.Helper()
	fn("clients/js/"+clientModule, js.Module)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err == nil {
			fn(p, b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
