// Package console is notifyd's live console: a small web application, embedded
// in the binary, that a person opens in a browser at /console/ to watch a
// user's notifications, inbox badge and spaces live, or (with a publisher
// token) to publish a test notification and watch the gateway's figures.
//
// Handler serves the files under static/ (HTML, CSS and plain ES modules: no
// framework, no build step, nothing fetched from another origin) and the
// browser client they import (clients/js's module, as notifyd.js), with a
// strict Content-Security-Policy, ETags and no-cache revalidation. The page
// talks to the same origin's websocket (or server-sent events) and REST API;
// it needs nothing from this package at run time but the files.
//
// The handler is immutable after Handler returns and safe for concurrent use;
// it starts no goroutine.
package console
