package space

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/notifyd/notifyd/history"
	"github.com/notifyd/notifyd/message"
	"github.com/notifyd/notifyd/protocol"
)

// SendOptions are Send's options.
type SendOptions struct {
	// OnID, when set, is called with the new message's id before it is
	// published (the gateway notes it to skip the echo on the sending
	// connection).
	OnID func(id string)
	// Key, when set, makes the send idempotent: within KeyWindow, a send
	// of the same caller to the same space with the same Key and the same
	// message is the first one: it gets the first id and timestamp, and
	// the message is stored, counted and delivered once (a retry after an
	// error or a timeout stores it if the first attempt did not). The same
	// Key with another message is ErrInvalid. At most MaxKey bytes of
	// printable ASCII.
	Key string
}

// MaxKey is the longest idempotency key of a send.
const MaxKey = 255

// KeyWindow is how long a send's idempotency key is remembered.
const KeyWindow = 24 * time.Hour

// sendKey returns the hashed idempotency key of a send (scoped by caller
// and space) and the hash of its message, or "" when there is no key.
func sendKey(c Caller, id string, key string, m protocol.Send) (string, string) {
	if key == "" {
		return "", ""
	}
	k := sha256.Sum256([]byte(c.Principal + "\n" + id + "\n" + key))
	h := sha256.Sum256(mustJSON(m))
	return hex.EncodeToString(k[:16]), hex.EncodeToString(h[:16])
}

// validKey reports whether key is a well-formed idempotency key.
func validKey(key string) bool {
	if len(key) > MaxKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return false
		}
	}
	return true
}

// extraKey is the message.Message extra key of a space message.
const extraKey = "space"

// Send sends m to the space id as the caller: the sender is always the
// caller, never anything in m. It checks m, the caller's send rate, that
// the caller is a member (and the task assignee too, and that the thread
// is a top-level message of the space), counts the message (unread
// counters, last message, the sender's read cursor), then publishes it
// through the Publisher. If the Publisher refuses the message (invalid,
// too large), the last message is put back and the record deleted, but
// the space's counter keeps its increment; other failures leave all as
// is, since the message may have been stored (see doc.go).
func (s *Service) Send(ctx context.Context, c Caller, id string, m protocol.Send, o SendOptions) (protocol.SpaceMessage, error) {
	const op = "send"
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return protocol.SpaceMessage{}, err
	}
	if err := checkSend(op, m); err != nil {
		return protocol.SpaceMessage{}, err
	}
	if !validKey(o.Key) {
		return protocol.SpaceMessage{}, invalid(op, "key", "must be at most %d printable ASCII characters", MaxKey)
	}
	if !s.send.Allow(c.Host + "\n" + c.Principal) {
		s.stats.rateLimited.Add(1)
		return protocol.SpaceMessage{}, failure(op, ErrRateLimited, "too many messages")
	}
	now := s.cfg.Now()
	msgID := s.cfg.IDGen.New(now)
	ts := message.FormatTimestamp(now)
	// Direct is known after the script; true here bounds the size.
	field := protocol.SpaceField{ID: id, Direct: true, Send: m}
	sender := protocol.Sender{ID: c.Principal, Title: cmp.Or(c.Title, c.Principal)}
	ev := protocol.NewSpaceMessage(protocol.ActionMessage, field, msgID, sender, ts)
	nm := &message.Message{
		Host: c.Host, Action: "notify", Category: protocol.SpaceCategory, Status: "info",
		Body:      notificationBody(m.Body, m.Title),
		Source:    &message.Source{ID: c.Principal, Title: sender.Title},
		Target:    &message.Target{Principals: []string{protocol.SpacePrincipal(id)}},
		Timestamp: ts, ID: msgID,
		Extra: map[string]json.RawMessage{extraKey: mustJSON(field)},
	}
	if m.Thread != "" {
		nm.Target.Principals = append(nm.Target.Principals, protocol.ThreadPrincipal(id, m.Thread))
	}
	// The notification title comes from the space, read by the script
	// below: bound the size with the longest title, escaped.
	if n := len(nm.StoredJSON()) + 6*MaxTitle + 64; n > s.cfg.MaxMessageSize {
		return protocol.SpaceMessage{}, invalid(op, "message", "is too large (%d bytes, limit %d)", n, s.cfg.MaxMessageSize)
	}
	assignee := ""
	if m.Task != nil {
		assignee = m.Task.Assignee
	}
	keyHash, bodyHash := sendKey(c, id, o.Key, m)
	v, err := s.runStatus(ctx, op, sendLua, c.Host, s.key(c.Host, "s:", id),
		id, c.Principal, msgID, m.Thread, assignee, s.ttlMS(), preview(ev), now.UnixMilli(), sender.Title,
		keyHash, bodyHash, ts, KeyWindow.Milliseconds())
	if err != nil {
		return protocol.SpaceMessage{}, err
	}
	replay := str(v[0]) == "dup"
	switch {
	case replay: // {'dup', id, ts, title, kind}: publish the first message again
		msgID, ts = str(v[1]), str(v[2])
		nm.ID, nm.Timestamp = msgID, ts
		ev.ID, ev.Timestamp = msgID, ts
		v = []any{"ok", int64(0), v[3], v[4]}
	case str(v[0]) != "ok":
		detail := ""
		if len(v) > 1 {
			detail = str(v[1])
		}
		return protocol.SpaceMessage{}, scriptErr(op, str(v[0]), detail)
	}
	spaceTitle, direct := str(v[2]), str(v[3]) == KindDirect
	field.Direct = direct
	nm.Extra[extraKey] = mustJSON(field)
	switch {
	case direct:
		nm.Title = sender.Title
	case m.Title != "":
		nm.Title = m.Title
	default:
		nm.Title = cmp.Or(spaceTitle, id)
	}
	if o.OnID != nil {
		o.OnID(msgID)
	}
	if err := s.pub.Publish(ctx, nm); err != nil {
		s.stats.errors.Add(1)
		if !errors.Is(err, message.ErrInvalid) && !errors.Is(err, message.ErrTooLarge) {
			// The message may have been stored (a timeout after the
			// script ran): keep its record, or it would vanish from
			// Messages; a retry by the client is a new message.
			return protocol.SpaceMessage{}, historyErr(ctx, op, err)
		}
		// Refused, so not stored: undo the last message and the record
		// (a replay changed neither).
		if replay {
			return protocol.SpaceMessage{}, historyErr(ctx, op, err)
		}
		if _, uerr := s.run(context.WithoutCancel(ctx), op, relastLua, c.Host, s.key(c.Host, "s:", id),
			id, msgID, str(v[4]), str(v[5]), str(v[6]), "1"); uerr != nil {
			s.log.Warn("space: undo of a failed send failed", "host", c.Host, "space", id, "id", msgID, "err", uerr)
		}
		return protocol.SpaceMessage{}, historyErr(ctx, op, err)
	}
	if !replay {
		s.stats.sent.Add(1)
	}
	s.log.Debug("space: sent", "replay", replay, "host", c.Host, "space", id, "id", msgID, "principal", c.Principal, "kind", m.Kind)
	if s.cfg.OnMessage != nil {
		s.cfg.OnMessage(ctx, c.Host, id, msgID, ev.Frame())
	}
	return ev, nil
}

// maxPreview bounds the body of a space's last message (Space.LastMessage).
const maxPreview = 1 << 10

// preview encodes m as a space's last message: no action, no attachments,
// the body cut to maxPreview bytes (on a character boundary). So List
// reads at most a few KiB per space.
func preview(m protocol.SpaceMessage) []byte {
	m.Action, m.Attachments, m.Reactions = "", nil, nil
	if len(m.Body) > maxPreview {
		cut := maxPreview
		for cut > 0 && !utf8.RuneStart(m.Body[cut]) {
			cut--
		}
		m.Body = m.Body[:cut]
	}
	return mustJSON(m)
}

// notificationBody is the body of the message.Message, which must not be
// blank: the text, or the title of a task without text.
func notificationBody(body, title string) string {
	if strings.TrimSpace(body) == "" {
		return title
	}
	return body
}

// Messages returns a page of the space's messages, newest first: before a
// message id (paging back), at most limit (0: history.DefaultPage; at
// most history.MaxPage), of the whole space or of one thread's replies
// (thread: the id of the thread's first message; the first message itself
// is not in the page). next is the id to pass as before for the next page,
// "" at the end. Reactions are merged in.
func (s *Service) Messages(ctx context.Context, c Caller, id, before string, limit int, thread string) (msgs []protocol.SpaceMessage, next string, err error) {
	const op = "messages"
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return nil, "", err
	}
	switch {
	case limit < 0 || limit > history.MaxPage:
		return nil, "", invalid(op, "limit", "must be 0 to %d", history.MaxPage)
	case before != "" && !validMessageID(before):
		return nil, "", failure(op, ErrNotFound, "message")
	case thread != "" && !validMessageID(thread):
		return nil, "", failure(op, ErrNotFound, "message")
	}
	member, _, err := s.IsMember(ctx, c.Host, id, c.Principal)
	if err != nil {
		return nil, "", err
	}
	if !member {
		return nil, "", failure(op, ErrNotFound, "space")
	}
	principal := protocol.SpacePrincipal(id)
	if thread != "" {
		principal = protocol.ThreadPrincipal(id, thread)
	}
	// The history hides a reader's own messages (message.VisibleTo): the
	// space itself reads, so the caller's messages are in the page.
	r := history.Reader{Host: c.Host, User: protocol.SpacePrincipal(id), Principals: []string{principal}}
	p, err := s.hist.Page(ctx, r, history.PageOptions{Before: before, Limit: limit})
	if err != nil {
		return nil, "", historyErr(ctx, op, err)
	}
	msgs = make([]protocol.SpaceMessage, 0, len(p.Items))
	for _, it := range p.Items {
		if sm, ok := spaceMessage(it.Message, id); ok {
			msgs = append(msgs, sm)
		}
	}
	msgs, err = s.withReactions(ctx, c.Host, id, msgs)
	if err != nil {
		return nil, "", err
	}
	return msgs, p.Next, nil
}

// spaceMessage converts a stored message of the space id.
func spaceMessage(m *message.Message, id string) (protocol.SpaceMessage, bool) {
	if m == nil || m.Category != protocol.SpaceCategory || m.Source == nil {
		return protocol.SpaceMessage{}, false
	}
	f, err := protocol.ParseSpaceField(m.Extra[extraKey])
	if err != nil || f.ID != id {
		return protocol.SpaceMessage{}, false
	}
	return protocol.NewSpaceMessage("", f, m.ID, protocol.Sender{ID: m.Source.ID, Title: m.Source.Title}, m.Timestamp), true
}

// Read moves the caller's read cursor of the space to the message until
// (a message of that space), unless it is past it already.
func (s *Service) Read(ctx context.Context, c Caller, id, until string) error {
	const op = "read"
	if err := s.checkSpaceOp(op, &c, id); err != nil {
		return err
	}
	if !validMessageID(until) {
		return failure(op, ErrNotFound, "message")
	}
	_, err := s.run(ctx, op, readLua, c.Host, s.key(c.Host, "s:", id), id, c.Principal, until)
	return err
}

// msgInfo returns the space and sender of the message id, and whether the
// caller is a moderator of that space; ErrNotFound when the message is
// unknown or the caller not a member.
func (s *Service) msgInfo(ctx context.Context, op string, c Caller, id string) (space, sender string, moderator bool, err error) {
	if err := checkCaller(op, &c); err != nil {
		return "", "", false, err
	}
	if !validMessageID(id) {
		return "", "", false, failure(op, ErrNotFound, "message")
	}
	v, err := s.run(ctx, op, msgLua, c.Host, s.key(c.Host, "sx:", id), id, c.Principal)
	if err != nil {
		return "", "", false, err
	}
	return str(v[1]), str(v[2]), str(v[3]) == "1", nil
}

// Edit replaces the body of the caller's own message (a task's body may
// be empty; chat and post bodies may not). Gateways get it as an update.
func (s *Service) Edit(ctx context.Context, c Caller, messageID, body string) error {
	const op = "edit"
	space, sender, _, err := s.msgInfo(ctx, op, c, messageID)
	if err != nil {
		return err
	}
	if sender != c.Principal {
		return failure(op, ErrForbidden, "only the sender edits a message")
	}
	if err := checkBody(op, body, false); err != nil {
		return err
	}
	var ev protocol.SpaceMessage
	nm, err := s.hist.Update(ctx, c.Host, messageID, func(m *message.Message) error {
		f, err := protocol.ParseSpaceField(m.Extra[extraKey])
		if err != nil || f.ID != space {
			return fmt.Errorf("%w: not a message of the space", message.ErrInvalid)
		}
		if body == "" && f.Kind != protocol.KindTask {
			return &message.FieldError{Field: "body", Reason: "is required"}
		}
		f.Body = body
		m.Extra[extraKey] = mustJSON(f)
		m.Body = notificationBody(body, f.Title)
		ev = protocol.NewSpaceMessage("", f, m.ID, protocol.Sender{ID: m.Source.ID, Title: m.Source.Title}, m.Timestamp)
		return nil
	})
	if err != nil {
		return historyErr(ctx, op, err)
	}
	_, err = s.run(ctx, op, relastLua, c.Host, s.key(c.Host, "s:", space), space, nm.ID, preview(ev), nm.ID, "", "0")
	return err
}

// DeleteMessage retracts a message: the sender's own, or any for a
// moderator. Gateways get it as a retract; its reactions go.
func (s *Service) DeleteMessage(ctx context.Context, c Caller, messageID string) error {
	const op = "delete message"
	space, sender, moderator, err := s.msgInfo(ctx, op, c, messageID)
	if err != nil {
		return err
	}
	if sender != c.Principal && !moderator {
		return failure(op, ErrForbidden, "only the sender or a moderator deletes a message")
	}
	if _, err := s.hist.Retract(ctx, c.Host, messageID); err != nil {
		return historyErr(ctx, op, err)
	}
	// The space's last message becomes the newest one left.
	last, lid := "", ""
	r := history.Reader{Host: c.Host, User: protocol.SpacePrincipal(space), Principals: []string{protocol.SpacePrincipal(space)}}
	if p, err := s.hist.Page(ctx, r, history.PageOptions{Limit: 1}); err == nil {
		for _, it := range p.Items {
			if sm, ok := spaceMessage(it.Message, space); ok {
				last, lid = string(preview(sm)), sm.ID
			}
		}
	}
	_, err = s.run(ctx, op, relastLua, c.Host, s.key(c.Host, "s:", space), space, messageID, last, lid, "", "1")
	return err
}
