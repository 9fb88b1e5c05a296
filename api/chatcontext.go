package api

import (
	"net/http"
	"slices"
)

// contextResponse is PyAMS's GET /api/chat/context answer.
type contextResponse struct {
	Status    string              `json:"status"`
	Principal principalJSON       `json:"principal"`
	Context   map[string][]string `json:"context"`
}

type principalJSON struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Principals []string `json:"principals"`
}

// chatContext answers GET /api/chat/context: the caller's principal and the
// categories that have a handler, under "*".
func (s *server) chatContext(w http.ResponseWriter, r *http.Request) {
	id, _ := IdentityFrom(r.Context())
	principals := id.Principals
	if principals == nil {
		principals = []string{}
	}
	categories := []string{}
	if s.cfg.Categories != nil {
		categories = append(categories, s.cfg.Categories.Categories()...)
		slices.Sort(categories)
	}
	writeJSON(w, http.StatusOK, contextResponse{
		Status:    "success",
		Principal: principalJSON{ID: id.Principal, Title: id.Title, Principals: principals},
		Context:   map[string][]string{"*": categories},
	})
}
