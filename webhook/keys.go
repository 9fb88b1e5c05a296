package webhook

import (
	"crypto/sha256"
	"encoding/hex"
)

// keys names the Redis keys under one prefix (see the package
// documentation). Each script touches the keys of one hash tag only.
type keys struct {
	prefix string
	stream string // "{<prefix>}:jobs": the job stream
	retry  string // "{<prefix>}:retry": sorted set of jobs waiting for a retry, by due time
}

// group is the consumer group of every dispatcher on the job stream.
const group = "dispatchers"

func newKeys(prefix string) keys {
	return keys{prefix: prefix, stream: "{" + prefix + "}:jobs", retry: "{" + prefix + "}:retry"}
}

// seen is the key that remembers an enqueued event, in the stream's slot.
func (k keys) seen(host, id string) string {
	sum := sha256.Sum256([]byte(host + "\n" + id))
	return "{" + k.prefix + "}:seen:" + hex.EncodeToString(sum[:16])
}

// siteKeys are the keys of one site's registrations, in the site's slot.
type siteKeys struct {
	regs string // "<prefix>:{<host>}:regs": hash id -> registration JSON
	base string
}

func (k keys) site(host string) siteKeys {
	base := k.prefix + ":{" + host + "}"
	return siteKeys{regs: base + ":regs", base: base}
}

// owner is the set of an owner's registration ids on the site.
func (k siteKeys) owner(owner string) string { return k.base + ":owner:" + owner }
