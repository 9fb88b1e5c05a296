// Package js embeds the browser client, @notifyd/client (notifyd.js, one
// dependency-free ES module), so that Go code can serve it: the console
// serves it at /console/notifyd.js. The module's sources, tests and
// packaging live in this directory; see README.md.
package js

import _ "embed"

// Module is notifyd.js, the browser client's ES module. Treat it as
// read-only.
//
//go:embed notifyd.js
var Module []byte
