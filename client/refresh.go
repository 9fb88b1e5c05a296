package client

import "context"

// refreshKey is the context key of the refresh flag passed to Config.Token.
type refreshKey struct{}

// Refresh reports whether the gateway refused the token returned by the
// previous Config.Token call (logout frame, close 4001 or 4003). A Token
// function that caches its token must fetch a new one when it is true.
func Refresh(ctx context.Context) bool {
	v, _ := ctx.Value(refreshKey{}).(bool)
	return v
}

func withRefresh(ctx context.Context, refresh bool) context.Context {
	if !refresh {
		return ctx
	}
	return context.WithValue(ctx, refreshKey{}, true)
}
