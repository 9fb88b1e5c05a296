// Package message defines notifyd's ChatMessage, the JSON document that PyAMS chat
// producers publish and that notifyd fans out, stores and serves.
//
// The wire form is PyAMS's: the 13 keys host, channel, action, category, status,
// title, message, image, source, target, url, modal and timestamp, in that order,
// followed by the notifyd id and then any extra keys the producer wrote, which are
// kept verbatim. Decode accepts what Python's json.dumps writes (", " and ": "
// separators, nulls, extra keys); AppendJSON writes compact JSON. Messages of the
// known keys only (what PyAMS and notifyd write) are decoded by a single scan
// without maps or reflection; anything else (extra keys, wrong types, invalid
// JSON) goes through encoding/json, which also words the errors. Both give the
// same message for the same input (FuzzDecodeFast).
//
// # Stored form and push form
//
// A message has two encodings. The stored form (StoredJSON, AppendJSON with
// withTarget) is what history keeps and what replay and REST read back: every
// key, target included. The push form (PushJSON, AppendJSON without
// withTarget) is what recipients get, live, on replay and from REST: no
// target, so that nobody learns who else a message was sent to.
//
// The target can also live in extra keys: a handler rule such as
// "principals": ["role:reviewer", "$recipient"] computes principals from the
// producer's "recipient" key. Such keys are part of the target. Their names
// are recorded in Target.Keys, which the stored form writes inside the
// target object, after the principals:
//
//	"target":{"principals":["role:reviewer","users:bob"],"keys":["recipient"]}
//
// and Decode reads back, so a message read from history still knows them.
// The push form leaves those extra keys out, with the target. PyAMS's own
// notifications view reads only target.principals and ignores "keys". A
// producer may set target.keys itself to hide keys of its own; keys naming a
// ChatMessage key (such as "title") hide nothing, only extra keys are left
// out.
//
// # Links
//
// Validate accepts only links a browser can load or follow safely: image is
// an absolute http or https URL; url and source.avatar are such URLs or a
// relative reference ("/page12", "page12", "?q", "#f"), never a
// scheme-relative "//host" nor another scheme (javascript:, data:, ...).
// Spaces, control characters and backslashes are refused in all of them,
// because browsers strip or rewrite them. Every port, host included, is
// 1-65535.
//
// The package is a leaf: it uses the standard library only. Its values are plain
// data with no internal locking: a Message must not be mutated while another
// goroutine reads it. IDGen is safe for concurrent use.
package message
