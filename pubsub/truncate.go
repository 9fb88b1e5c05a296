package pubsub

// truncate returns at most n bytes of s for a log line, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
