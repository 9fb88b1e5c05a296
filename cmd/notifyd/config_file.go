package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileValue is one setting as a configuration file writes it.
type fileValue struct {
	text string // a scalar as written; a list joined with commas
	line int
}

// readConfigFile reads a YAML configuration file: one mapping whose keys are
// flag names and whose values are scalars (read as written: `50`, `10s`,
// `"*"`) or, for list settings, lists of scalars. An unknown or repeated
// key is an error naming it, and so is a file that holds a secret while
// every user of the machine may read it.
func readConfigFile(path string, all []setting) (map[string]fileValue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	if len(doc.Content) == 0 { // empty or only comments: every setting from elsewhere
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config file %s line %d: want a mapping of setting names to values", path, root.Line)
	}
	known := make(map[string]setting, len(all))
	byEnv := make(map[string]string, len(all))
	for _, s := range all {
		known[s.flag] = s
		byEnv[s.env] = s.flag
	}
	out := make(map[string]fileValue, len(root.Content)/2)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		s, ok := known[k.Value]
		switch {
		case !ok && byEnv[k.Value] != "":
			return nil, fmt.Errorf("config file %s line %d: unknown setting %q: keys are flag names (%s)", path, k.Line, k.Value, byEnv[k.Value])
		case !ok && k.Value == configFile.flag:
			return nil, fmt.Errorf("config file %s line %d: a configuration file cannot name another (%q)", path, k.Line, k.Value)
		case !ok:
			return nil, fmt.Errorf("config file %s line %d: unknown setting %q (notifyd config defaults lists them)", path, k.Line, k.Value)
		}
		if _, dup := out[s.flag]; dup {
			return nil, fmt.Errorf("config file %s line %d: %s is set twice", path, k.Line, s.flag)
		}
		text, err := nodeText(v, s.list)
		if err != nil {
			return nil, fmt.Errorf("config file %s line %d: invalid %s: %w", path, v.Line, s.flag, err)
		}
		out[s.flag] = fileValue{text: text, line: v.Line}
	}
	if err := checkFileMode(path, all, out); err != nil {
		return nil, err
	}
	return out, nil
}

// nodeText is a value node as the text a flag would carry: a scalar as
// written (null is empty), a list of scalars joined with commas.
func nodeText(v *yaml.Node, list bool) (string, error) {
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		return "", nil
	case v.Kind == yaml.ScalarNode:
		return v.Value, nil
	case v.Kind == yaml.SequenceNode && list:
		items := make([]string, 0, len(v.Content))
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return "", errors.New("want a list of strings")
			}
			if strings.Contains(it.Value, ",") {
				return "", fmt.Errorf("list item %q contains a comma", it.Value)
			}
			items = append(items, it.Value)
		}
		return strings.Join(items, ","), nil
	case v.Kind == yaml.SequenceNode:
		return "", errors.New("want a single value, not a list")
	}
	return "", errors.New("want a string, a number or (for a list setting) a list")
}

// checkFileMode refuses a file that holds a secret (a secret setting or a
// password in a URL) and that every user may read: the environment or a
// file of mode 0600 or 0640 keeps it. Windows has no such mode bits.
func checkFileMode(path string, all []setting, values map[string]fileValue) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	var held []string
	for _, s := range all {
		if v, ok := values[s.flag]; ok && v.text != "" && (s.secret || hasURLPassword(v.text)) {
			held = append(held, s.flag)
		}
	}
	if len(held) == 0 {
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if perm := info.Mode().Perm(); perm&0o004 != 0 {
		return fmt.Errorf("config file %s holds secrets (%s) and every user may read it (mode %04o): "+
			"chmod o-r %s, or set them in the environment", path, strings.Join(held, ", "), perm, path)
	}
	return nil
}

// hasURLPassword reports whether v is a URL that carries a password.
func hasURLPassword(v string) bool {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return false
	}
	_, ok := u.User.Password()
	return ok
}
