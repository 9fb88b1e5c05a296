package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// callTimeout bounds one Call: dial, write and read.
const callTimeout = 5 * time.Second

// Call sends one command to addr and returns its whole reply, decoded from
// RESP2: a string for simple and bulk strings, an int64 for integers, []any
// for arrays and nil for a null. An error reply is returned as an error
// prefixed "redis: " (inside an array it is kept as an error element).
func Call(addr string, args ...string) (any, error) {
	conn, err := net.DialTimeout("tcp", addr, callTimeout)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(callTimeout))
	if _, err := conn.Write(encodeCommand(args)); err != nil {
		return nil, err
	}
	return readReply(bufio.NewReader(conn))
}

// Call sends one command to the server and returns its whole reply (see the
// function Call).
func (s *Server) Call(args ...string) (any, error) { return Call(s.Addr(), args...) }

// callString is Call for commands whose reply is a string.
func callString(addr string, args ...string) (string, error) {
	v, err := Call(addr, args...)
	if err != nil {
		return "", err
	}
	str, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("redistest: %s: reply %T, want a string", args[0], v)
	}
	return str, nil
}

func encodeCommand(args []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

// readReply decodes one RESP2 reply.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("redistest: empty reply line")
	}
	body := line[1:]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, replyError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err // nil, nil for the null bulk string
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil, err // nil, nil for the null array
		}
		out := make([]any, n)
		for i := range out {
			// An error reply inside an array (EXEC) is kept as a value.
			v, err := readReply(r)
			var re replyError
			switch {
			case errors.As(err, &re):
				out[i] = re
			case err != nil:
				return nil, err
			default:
				out[i] = v
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("redistest: unexpected reply %q", line)
	}
}

// replyError is an error reply from Redis, such as "ERR unknown command".
type replyError string

func (e replyError) Error() string { return "redis: " + string(e) }

// Info returns the fields of one INFO section of the server at addr.
func Info(addr, section string) (map[string]string, error) {
	text, err := callString(addr, "INFO", section)
	if err != nil {
		return nil, err
	}
	return parseFields(text, ":"), nil
}

// parseFields parses "key<sep>value" lines, skipping comments and blanks.
func parseFields(text, sep string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, sep); ok {
			out[k] = v
		}
	}
	return out
}

// retryUntil calls cond every few milliseconds until it returns nil, or returns
// its last error wrapped once timeout has passed.
func retryUntil(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %v: %w", timeout, err)
		}
		<-tick.C
	}
}
