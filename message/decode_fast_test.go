package message

import (
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeFast: whatever the fast decoder accepts, encoding/json decodes
// to the same message; what it refuses is left to encoding/json.
func FuzzDecodeFast(f *testing.F) {
	for _, s := range []string{
		pyamsLogin,
		string(validMessage().AppendJSON(nil, true)),
		string(validMessage().PushJSON()),
		`{}`, ` { } `, `{"title": "\ud800"}`, `{"title": "a\"b\\c\u00e9\n"}`, `{"message": "{\"_fb\":\"1:2\"}\/\b\f\r\t\\"}`, `{"title": "\x"}`, `{"\u0068ost": "h"}`,
		`{"source": {"id": null, "title": null, "avatar": null}}`, `{"source": {}}`, `{"source": null, "source": {"id": "x"}}`,
		`{"target": {"principals": [null]}}`, `{"target": {"principals": []}}`, `{"target": null}`,
		`{"target": {"keys": ["recipient"]}}`, `{"target": {"keys": [], "principals": null}}`,
		`{"target": {"principals": ["a"], "principals": null, "keys": ["k"]}}`,
		`{"modal": true, "modal": null}`, `{"modal": false}`, `{"host": "x", "host": null}`, `{"host": "x", "host": 2}`,
		`{"title": "x"} x`, `{"title": "x",}`, "{\"title\": \"a\tb\"}", `{"id":"01JHWX2X3B0000000000000000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // Decode refuses it before the fast decoder
		}
		fast, ok := decodeFast(data)
		if !ok {
			return
		}
		slow, err := Decode(data, -1)
		if err != nil {
			t.Fatalf("fast decoder accepts %q, Decode: %v", data, err)
		}
		want, err := decodeSlow(data)
		if err != nil {
			t.Fatalf("fast decoder accepts %q, encoding/json: %v", data, err)
		}
		if !reflect.DeepEqual(fast, want) || !reflect.DeepEqual(slow, want) {
			t.Fatalf("decode %q:\nfast %#v\nslow %#v", data, fast, want)
		}
	})
}
