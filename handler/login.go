package handler

import (
	"context"

	"github.com/notifyd/notifyd/message"
)

// LoginCategory is the category of PyAMS's login notifications.
const LoginCategory = "user.login"

// Login is the built-in handler of LoginCategory. PyAMS sends login
// notifications to its built-in administrator and to the principals holding
// the system.Manager role on the site root; notifyd cannot read roles, so those
// principals are configured in Admins.
type Login struct {
	// Admins are the principals, besides message.Admin, that are told about
	// logins. Nil means message.Admin alone.
	Admins []string
}

var _ Handler = Login{}

// Target returns message.Admin followed by Admins, each once.
func (l Login) Target(context.Context, *message.Message) ([]string, error) {
	out := make([]string, 0, 1+len(l.Admins))
	out = append(out, message.Admin)
	out = append(out, l.Admins...)
	return dedupe(out), nil
}
