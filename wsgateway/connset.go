package wsgateway

import "iter"

// connSet is the indexed connections of one principal on one site. Most
// principals (a user's own) have one connection, which it holds without a
// map: a map per idle connection cost about 150 bytes (issue 9). It is a
// value: the index stores it back after add and remove. Guarded by the
// hub's lock.
type connSet struct {
	one  *conn              // the only connection, while there is one
	many map[*conn]struct{} // from the second connection on; one is then nil
}

// add puts c in s; adding it twice is harmless.
func (s *connSet) add(c *conn) {
	switch {
	case s.many != nil:
		s.many[c] = struct{}{}
	case s.one == nil:
		s.one = c
	case s.one != c:
		s.many = map[*conn]struct{}{s.one: {}, c: {}}
		s.one = nil
	}
}

// remove takes c out of s; a set left with one connection drops its map.
func (s *connSet) remove(c *conn) {
	switch {
	case s.one == c:
		s.one = nil
	case s.many != nil:
		delete(s.many, c)
		if len(s.many) == 1 {
			for last := range s.many {
				s.one = last
			}
			s.many = nil
		}
	}
}

// empty reports whether s holds no connection.
func (s connSet) empty() bool { return s.one == nil && len(s.many) == 0 }

// all yields the connections of s, in no particular order.
func (s connSet) all() iter.Seq[*conn] {
	return func(yield func(*conn) bool) {
		if s.one != nil {
			yield(s.one)
			return
		}
		for c := range s.many {
			if !yield(c) {
				return
			}
		}
	}
}
