package pubsub

import "container/list"

// siteIDs remembers, for at most max sites, the id of the last message the
// dispatcher handed to the sink and, with a DeliveryChannel, its site
// sequence number; the least recently dispatched site is forgotten first.
// It is owned by the dispatcher goroutine.
type siteIDs struct {
	max   int
	order *list.List // of *siteID, most recently dispatched first
	index map[string]*list.Element
}

type siteID struct {
	host, id string
	seq      int64 // 0: unknown
}

func newSiteIDs(max int) *siteIDs {
	return &siteIDs{max: max, order: list.New(), index: make(map[string]*list.Element)}
}

// set records id as the last message dispatched for host.
func (s *siteIDs) set(host, id string) {
	if e, ok := s.index[host]; ok {
		*e.Value.(*siteID) = siteID{host: host, id: id}
		s.order.MoveToFront(e)
		return
	}
	if s.order.Len() >= s.max {
		oldest := s.order.Back()
		delete(s.index, oldest.Value.(*siteID).host)
		s.order.Remove(oldest)
	}
	s.index[host] = s.order.PushFront(&siteID{host: host, id: id})
}

// setSeq records seq as the site sequence number of the message last
// dispatched for host (set records its id first).
func (s *siteIDs) setSeq(host string, seq int64) {
	if e, ok := s.index[host]; ok {
		e.Value.(*siteID).seq = seq
	}
}

// seq returns the sequence number last dispatched for host, or 0.
func (s *siteIDs) seq(host string) int64 {
	if e, ok := s.index[host]; ok {
		return e.Value.(*siteID).seq
	}
	return 0
}

// last returns the id last dispatched for host, or "".
func (s *siteIDs) last(host string) string {
	if e, ok := s.index[host]; ok {
		return e.Value.(*siteID).id
	}
	return ""
}

// hosts returns every remembered site, most recently dispatched first.
func (s *siteIDs) hosts() []string {
	out := make([]string, 0, s.order.Len())
	for e := s.order.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*siteID).host)
	}
	return out
}
