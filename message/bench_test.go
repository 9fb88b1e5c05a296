package message

import (
	"encoding/json"
	"testing"
	"time"
)

func BenchmarkDecode(b *testing.B) {
	data := []byte(pyamsLogin)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	m := validMessage()
	m.Extra = map[string]json.RawMessage{"comments": []byte(`"see the review"`)}
	buf := m.AppendJSON(nil, true)
	b.ReportAllocs()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		buf = m.AppendJSON(buf[:0], true)
	}
}

func BenchmarkPushJSON(b *testing.B) {
	m := validMessage()
	b.ReportAllocs()
	for b.Loop() {
		_ = m.PushJSON()
	}
}

func BenchmarkIDGenNew(b *testing.B) {
	b.ReportAllocs()
	var g IDGen
	now := time.Now()
	for b.Loop() {
		_ = g.New(now)
	}
}

func BenchmarkIDTime(b *testing.B) {
	b.ReportAllocs()
	var g IDGen
	id := g.New(time.Now())
	for b.Loop() {
		if _, ok := IDTime(id); !ok {
			b.Fatal("not an id")
		}
	}
}
