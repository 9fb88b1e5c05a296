// Package handler computes the target principals of a message from its
// category, as PyAMS's named IChatMessageHandler adapters do.
//
// A Registry maps categories to Handlers. Registry.Resolve gives a message its
// target:
//
//   - a message that already names target principals keeps them unchanged
//     (only target keys may be recorded, see below);
//   - otherwise the handler registered for the message's category computes them
//     (duplicates and empty strings are dropped; an empty result leaves the
//     target nil, so the message reaches nobody);
//   - a category without a handler leaves the target nil too, as in PyAMS, but
//     it is counted (Registry.Unhandled) and logged at Debug level.
//
// Login is the built-in "user.login" handler. Rule is a declarative handler
// read from a rules file.
//
// # Target keys
//
// The extra keys a rule reads ("$recipient") hold target principals: they are
// part of the target, and recipients must not see them. A handler that reads
// extra keys says which by implementing TargetKeyer (Rule does). Resolve
// records the ones a message carries in its target (message.Target.Keys),
// both when the handler computes the target and when the message came with
// target principals already (those are kept unchanged): the keys stay in the
// stored form (history) and are left out of everything sent to clients, live,
// on replay and from REST (see package message). A HandlerFunc that reads
// extra keys should be wrapped in a type that implements TargetKeyer.
//
// # Rules file
//
// A rules file is one JSON object with a single key, "rules", a list of rules:
//
//	{"rules": [
//	  {"category": "content.review", "principals": ["role:reviewer", "$recipient"], "exclude_sender": true},
//	  {"category": "site.announce", "principals": ["system.Authenticated"]}
//	]}
//
// Each rule has these keys (any other key, in a rule or at the top level, is an
// error):
//
//   - "category" (string, required): the category the rule handles. Each
//     category may appear in one rule only.
//   - "principals" (list of strings, required, not empty): the target. An entry
//     is either a literal principal id, used as-is ("role:reviewer",
//     "system.Authenticated", "users:jdoe"), or a reference starting with "$".
//   - "exclude_sender" (boolean, default false): remove the sender (source.id)
//     from the result.
//
// References read the message being resolved:
//
//   - "$source.id" is the sender's principal id;
//   - "$name" is the extra key "name" of the message (a key that is not one of
//     the ChatMessage keys, see message.Message.Extra; the whole name is the
//     key, dots included: there is no path into objects), whose value must be a
//     JSON string or a list of strings. A missing or null key adds nothing, nor
//     do empty strings. Any other value (a number, an object, a list holding a
//     non-string) is an error: Rule.Target returns a *message.FieldError naming
//     the key (it matches message.ErrInvalid) and Resolve leaves the message's
//     target unset, so the message is rejected rather than sent to a partial
//     list.
//
// A reference to a ChatMessage key ("$title", "$source.title", ...) is rejected
// when the file is parsed, because those keys are never extra keys. Principal
// strings must not be empty nor have surrounding spaces. A literal principal
// cannot start with "$" (no PyAMS principal does).
//
// ParseRules and LoadRules report problems as a *RuleError naming the rule's
// index and the field; it matches ErrInvalid, and ErrDuplicate too for a
// repeated category.
//
// # Concurrency
//
// A Registry is safe for concurrent use. Registration normally happens at
// start-up, before the first Resolve, but may happen at any time. Resolve holds
// no lock while a handler runs, so handlers may be slow without blocking
// registration; handlers themselves must be safe for concurrent use (Login and
// Rule are: they only read their fields). Resolve mutates the message it is
// given: the caller must own it. The package starts no goroutine.
package handler
