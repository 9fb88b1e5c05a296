package message

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestDecodePyAMSOutput(t *testing.T) {
	t.Parallel()
	m, err := Decode([]byte(pyamsLogin), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	want := &Message{
		Host:      "http://example.com",
		Channel:   "chat:main",
		Action:    "notify",
		Category:  "user.login",
		Status:    "info",
		Title:     "Connexion",
		Body:      "Administrateur s'est connecté... 😀",
		Source:    &Source{ID: "system:admin", Title: "Administrateur", Avatar: "http://example.com/--static--/avatar.png"},
		Target:    &Target{Principals: []string{"system:admin", "users:jdoe"}},
		Timestamp: "2025-01-18T17:20:54.123456+00:00",
	}
	assertEqualMessages(t, m, want)
	if err := m.Validate(); err != nil {
		t.Fatalf("Validate of PyAMS output: %v", err)
	}
}

func TestDecodeKeepsExtraKeys(t *testing.T) {
	t.Parallel()
	in := `{"zeta": [1, 2, {"a": "b c"}], "host": "http://example.com", "alpha": "x", ` +
		`"id": "01JHWX2X3B0000000000000000", "mid": null, "source": null}`
	m, err := Decode([]byte(in), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(m.Extra) != 3 {
		t.Fatalf("Extra = %v, want 3 keys", m.Extra)
	}
	if got := string(m.Extra["zeta"]); got != `[1, 2, {"a": "b c"}]` {
		t.Errorf("Extra[zeta] = %s, want verbatim", got)
	}
	if m.ID != "01JHWX2X3B0000000000000000" || m.Source != nil {
		t.Errorf("ID = %q, Source = %v", m.ID, m.Source)
	}
	out := m.AppendJSON(nil, true)
	keys := topKeys(t, out)
	tail := strings.Join(keys[len(keys)-4:], ",")
	if tail != "id,alpha,mid,zeta" {
		t.Errorf("keys end with %s, want id,alpha,mid,zeta; output %s", tail, out)
	}
	if !strings.Contains(string(out), `"zeta":[1,2,{"a":"b c"}]`) {
		t.Errorf("extra not re-emitted compact with its strings intact: %s", out)
	}
}

func TestDecodeNullsAndAbsentKeys(t *testing.T) {
	t.Parallel()
	in := `{"host": null, "image": null, "url": null, "modal": null, "source": null, "target": null}`
	m, err := Decode([]byte(in), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if m.Host != "" || m.Image != "" || m.URL != "" || m.Modal || m.Source != nil || m.Target != nil {
		t.Fatalf("nulls not decoded as zero values: %#v", m)
	}
	m, err = Decode([]byte(`{"target": {}, "source": {"id": "u:1"}}`), 0)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if m.Target != nil || m.SourceID() != "u:1" {
		t.Fatalf("target {} should be nil and source id u:1: %#v", m)
	}
}

func TestDecodeWrongTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, field string
	}{
		{`{"host": 1}`, "host"},
		{`{"channel": true}`, "channel"},
		{`{"action": []}`, "action"},
		{`{"category": {}}`, "category"},
		{`{"status": 2}`, "status"},
		{`{"title": ["x"]}`, "title"},
		{`{"message": {"a": 1}}`, "message"},
		{`{"image": 3}`, "image"},
		{`{"url": false}`, "url"},
		{`{"timestamp": 1737220854}`, "timestamp"},
		{`{"id": 7}`, "id"},
		{`{"modal": "yes"}`, "modal"},
		{`{"source": "system:admin"}`, "source"},
		{`{"source": {"id": 5}}`, "source.id"},
		{`{"source": {"id": "a", "title": []}}`, "source.title"},
		{`{"source": {"id": "a", "avatar": 1}}`, "source.avatar"},
		{`{"source": {"id": 1, "title": 2, "avatar": 3}}`, "source.id"},
		{`{"target": ["a"]}`, "target"},
		{`{"target": {"principals": "a"}}`, "target.principals"},
		{`{"target": {"principals": [1]}}`, "target.principals"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tt.in), 0)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if errors.Is(err, ErrMalformed) {
				t.Errorf("err %v also matches ErrMalformed", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %T, want *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Errorf("Field = %q, want %q", fe.Field, tt.field)
			}
			if fe.Reason == "" || !strings.Contains(fe.Error(), tt.field) {
				t.Errorf("error %q does not name the field", fe.Error())
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"empty":              ``,
		"blank":              " \n\t",
		"null":               `null`,
		"array":              `[{"host": "x"}]`,
		"string":             `"{}"`,
		"number":             `42`,
		"truncated":          `{"host": "x"`,
		"trailing garbage":   `{"host": "x"} x`,
		"two objects":        `{}{}`,
		"bom":                "\ufeff{}",
		"single quotes":      `{'host': 'x'}`,
		"invalid utf8 key":   "{\"h\xffst\": \"x\"}",
		"invalid utf8 value": "{\"host\": \"\xc3\x28\"}",
		"invalid utf8 lead":  "\xff{}",
		"nan":                `{"a": NaN}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := Decode([]byte(in), 0)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode(%q) = %v, %v; want ErrMalformed", in, m, err)
			}
			if m != nil {
				t.Errorf("message returned with error: %#v", m)
			}
		})
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	t.Parallel()
	data := []byte(pyamsLogin)
	if _, err := Decode(data, len(data)); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := Decode(data, len(data)-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("one byte over: %v, want ErrTooLarge", err)
	}
	big := []byte(`{"message": "` + strings.Repeat("x", DefaultMaxSize) + `"}`)
	if _, err := Decode(big, 0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("0 = default limit: %v, want ErrTooLarge", err)
	}
	if _, err := Decode(big, -1); err != nil {
		t.Fatalf("negative = no limit: %v", err)
	}
	// The size check comes before parsing: garbage over the limit is too large.
	if _, err := Decode([]byte("xxxx"), 3); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("garbage over the limit: %v, want ErrTooLarge", err)
	}
}

func TestUnmarshalJSON(t *testing.T) {
	t.Parallel()
	var doc struct {
		Msg  Message  `json:"msg"`
		Ptr  *Message `json:"ptr"`
		Null Message  `json:"null"`
	}
	in := `{"msg": ` + pyamsLogin + `, "ptr": ` + pyamsLogin + `, "null": null}`
	if err := json.Unmarshal([]byte(in), &doc); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	want, err := Decode([]byte(pyamsLogin), 0)
	if err != nil {
		t.Fatal(err)
	}
	assertEqualMessages(t, &doc.Msg, want)
	assertEqualMessages(t, doc.Ptr, want)
	assertEqualMessages(t, &doc.Null, &Message{})

	var m Message
	err = json.Unmarshal([]byte(`{"host": 1}`), &m)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Unmarshal wrong type: %v, want ErrInvalid", err)
	}
}
