// Package message defines notifyd's ChatMessage, the JSON document that PyAMS chat
// producers publish and that notifyd fans out, stores and serves.
//
// The wire form is PyAMS's: the 13 keys host, channel, action, category, status,
// title, message, image, source, target, url, modal and timestamp, in that order,
// followed by the notifyd id and then any extra keys the producer wrote, which are
// kept verbatim. Decode accepts what Python's json.dumps writes (", " and ": "
// separators, nulls, extra keys); AppendJSON writes compact JSON.
//
// The package is a leaf: it uses the standard library only. Its values are plain
// data with no internal locking: a Message must not be mutated while another
// goroutine reads it. IDGen is safe for concurrent use.
package message
