package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
)

// readBody reads r's body up to max bytes: a larger body is 413, a body
// that cannot be read 400.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			err = errUnreadableBody.with(err)
		}
		return nil, err
	}
	return body, nil
}

// decodeMembers reads body as a JSON object whose members are all among
// names, strictly: anything else is 400 naming the first unknown member in
// sorted order (the same body always names the same one). Errors are
// catalogue entries.
func decodeMembers(body []byte, names ...string) (map[string]json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, errMalformedBody.with(err)
	}
	unknown := make([]string, 0, len(members))
	for name := range members {
		if !slices.Contains(names, name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		e := errUnknownField.with(nil)
		e.message, e.field = fmt.Sprintf("unknown field %q", unknown[0]), unknown[0]
		return nil, e
	}
	return members, nil
}
