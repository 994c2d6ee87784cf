// Package dev is the root of the tooling room: everything under
// shared/dev is test and development machinery (the embedded DynamoDB,
// the event replay, the Lambda emulator runs, fault injection, the
// fixture loader, the soak), which no Lambda function links. Runtime code
// that functions link lives beside it, in shared/<concern>.
//
// The rule is checked by this package's test: no function's build
// contains a package of this module outside shared/ and its own
// directory, none contains anything under shared/dev, no runtime package
// under shared/ imports one under shared/dev, and nothing under shared/
// links a group's code: the tools take the list of groups (package
// functions) from their callers.
package dev
