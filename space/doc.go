// Package space is the chat of notifyd (issue 10): spaces (group rooms
// and direct conversations) with members and moderators, messages sent
// through the normal pipeline, threads, tasks, reactions, typing, unread
// counts and guest invitations. The gateway (wsgateway) and the REST API
// call a *Service; cmd/notifyd wires it to the history's Redis client,
// the *pubsub.Publisher and the *history.Store.
//
// # Rules
//
// Every operation names a Caller (a user's token sub, or the principal a
// publisher token names) and is refused unless the caller is a member of
// the space: a non-member gets ErrNotFound, exactly as for a space or
// message that does not exist, never a hint that it does. Moderators
// rename, delete and manage members; any member may leave (RemoveMember
// of itself). When the last moderator leaves, the member who joined first
// becomes moderator; when the last member leaves, the space is deleted.
// A moderator cannot demote itself (it may leave). The creator of a group
// space is its first moderator.
//
// A direct space has exactly two members, neither a moderator; its id is
// DirectID (a hash of the site and the sorted pair), created if absent in
// one script, so both users, in any order and concurrently, get the same
// space. It cannot be renamed, deleted, left or joined (ErrForbidden); its
// title, as each member sees it, is the other member's last known display
// name (from its Direct or Send calls), else its principal.
//
// Space principals ("space:...") and system principals ("system.",
// "system:") are never members. Guests ("guest:<random>", see Guest) join
// one space through their invitation only: a guest may not Create, Direct,
// nor be added (Create's members, AddMember) to any space. A guest token
// carries no space principal: a guest's, like every member's, comes from
// its membership (IsMember, MemberOf), so a removal takes effect at once.
//
// Messages: kind chat needs a body, post a title and a body, task a title
// and a Task (status open or done, due RFC 3339 if set, an assignee that
// must be a member); at most 10 attachments, each with a name and an
// absolute http(s) URL (and thumbnail) without user information, spaces,
// control characters or backslashes (message's link rules). Limits: body
// 16 KiB, titles 200 bytes on one line, emoji 1..32 bytes without spaces
// or control characters, principals 256 bytes, names 100 bytes, members
// Config.MaxMembers, spaces per principal Config.MaxSpacesPerUser (a
// Create, Direct or AddMember that would take any member past it fails),
// different emojis per message Config.MaxEmojis; all text valid UTF-8
// (bodies may hold newlines and tabs, nothing else below U+0020). The
// caller's title (a token's name) is cleaned rather than refused: control
// characters become spaces and it is cut to 200 bytes. A thread
// is the id of a top-level message of the same space. Edit: the sender
// only. DeleteMessage: the sender or a moderator. Each user (host and
// principal) sends at most Config.SendRate messages per second
// (ErrRateLimited); typing events beyond one per Config.TypingInterval per
// user and space are dropped silently.
//
// # HTML
//
// Bodies, titles and names are plain text, stored and delivered verbatim.
// Clients must render them as text (textContent, or escaped), never as
// HTML: a browser must never run a sender's markup. Attachment URLs are
// restricted to http(s) so that no javascript: or data: link is stored.
//
// # Messages and history
//
// Send builds a message.Message: host, action "notify", category
// protocol.SpaceCategory, source {caller principal, caller title} (from
// the Caller, never the request), title (a direct space: the sender's
// title; else the post or task title, else the space title), body (the
// text, or a task's title when it has none), an id made here (OnID sees it
// before publishing), the timestamp, target [space:<id>] plus
// space:<id>#<thread> for a reply, and extra "space" = protocol.SpaceField.
// The Publisher stores it (the history indexes it under each target
// principal: a space's and a thread's history come for free) and every
// gateway receives it on the delivery channel. Messages reads the history
// with Reader{User: "space:<id>"} (the history hides a reader's own
// messages; the space itself reading shows everyone's) and keeps only
// messages recorded by Send (sx:<msgid> of that space): anything else
// published with a space principal as target is not a space message.
// Edit and DeleteMessage go through History.Update and Retract and reach
// gateways as update and retract deliveries.
//
// # Keys
//
// P is Config.Prefix(host), "{<notifications key>::<host>}:", the slot of
// the site's history. Every key below carries its hash tag, and every
// script has one key and builds the others from P: one slot, atomic,
// Cluster-safe.
//
//	P s:<id>       hash: title, kind, created, creator, n (message counter),
//	               last (JSON preview of the last SpaceMessage: body cut to
//	               1 KiB, no attachments), lid (its id), act
//	               (last activity, Unix ms); direct spaces also p1, p2 (the
//	               two members) and t1, t2 (their last known titles)
//	P sm:<id>      hash: principal -> "1" moderator / "0" member
//	P us:<p>       sorted set: the spaces of p, scored by join time (ms)
//	P sr:<p>       hash: space -> p's read counter
//	P sx:<msgid>   hash: space, sender, thread, n; expires after MessageTTL
//	P r:<msgid>    hash: emoji -> count; expires with sx
//	P rp:<msgid>   sorted set of "emoji\x00principal" (score 0); expires with sx
//	P sk:<hash>    hash: id, ts, h: a keyed send (SendOptions.Key; the hash of
//	               sender, space and key), h the hash of its message; KeyWindow
//
// Unread is the space's counter n minus the reader's read counter (never
// below 0): Send counts the message and moves the sender's counter to it
// (one's own message is read); Read(until) moves the reader's counter to
// until's n if that is larger; a member added later starts at the
// current n. A deleted message keeps counting until it is read past.
//
// # Events
//
// Membership changes, typing and reactions are published as JSON on
// Config.Channel and reach every gateway's Listen (typing is never
// stored):
//
//	{"type":"member","host":H,"space":ID,"principal":P,"joined":true}
//	{"type":"member","host":H,"space":ID,"principal":P}                  left or removed
//	{"type":"member","host":H,"space":ID,"principal":P,"deleted":true}   space deleted (one per member)
//	{"type":"typing","host":H,"space":ID,"principal":P}
//	{"type":"reaction","host":H,"space":ID,"principal":P,"message":M,"emoji":E,"remove":true,"count":N}
//
// Events published while a Listen is not subscribed are lost: it calls
// EventSink.SpacesResync after every (re)subscription so that the gateway
// re-reads what it depends on (memberships).
//
// # What is not atomic
//
// Each script is atomic; a sequence of them is not. Send counts the
// message before publishing it. When the Publisher refuses it (invalid,
// too large), the last message is put back and the record deleted, but
// the counter keeps its increment (a reader may see one unread message too
// many until it reads past the next one). Any other failure may come after
// the message was stored (a timeout), so nothing is undone: the caller
// gets ErrUnavailable, and a retry is a new message (another id).
// Edit and DeleteMessage change the history first, then the
// space's last message. Delete removes the space and its memberships; its
// messages stay in the history (unreadable: nobody is a member) until they
// expire. Events are published after the change, so a crash between the
// two loses the event (SpacesResync is the remedy). Messages checks
// membership, then reads the history.
//
// # Errors and concurrency
//
// Errors match one sentinel (ErrNotFound, ErrForbidden, ErrInvalid,
// ErrRateLimited, ErrUnavailable, ErrNotConfigured), wrapped with the
// operation and the field or reason; a Redis failure after the caller's
// context ended matches its error only. A Service is safe for concurrent
// use and starts no goroutine: Listen runs in its caller's until its
// context ends.
package space
